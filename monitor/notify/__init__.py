"""Notifiers: one module per channel type, all behind the small interface in `base`."""
