"""Delivery: the alert outbox and the worker that sends pending alerts to their channels."""
