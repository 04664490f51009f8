"""Configuration: `feeds.yaml` and `rules/` loaded and validated once into typed objects."""

from monitor.config.loader import AppConfig, load_config
from monitor.config.models import ChannelSpec, FetchSettings, Settings, SourceSpec
from monitor.config.secrets import Secret

__all__ = [
    "AppConfig",
    "ChannelSpec",
    "FetchSettings",
    "Secret",
    "Settings",
    "SourceSpec",
    "load_config",
]
