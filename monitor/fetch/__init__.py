"""Fetching: the one audited HTTP path (limits, conditional GET, SSRF guard) and URL hygiene."""
