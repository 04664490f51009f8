"""Parsing fetched bytes: feeds (RSS, Atom, JSON Feed) into entries."""
