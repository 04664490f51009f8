"""Configuration: `feeds.yaml` and `rules/` loaded and validated once into typed objects.

`loader.load_config` is the entry point; `models` holds the typed models, `types` the duration
and size types, `secrets` the secret references. Import from those modules directly.
"""
