"""Loads `feeds.yaml` and the `rules/` directory, reporting every problem at once.

Each problem names the file, the key path (e.g. `sources[2].interval`) and the bad value, and
says what would be valid. Secrets are checked for presence but their values are never shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from monitor.config.models import ChannelSpec, FetchSettings, Settings, SourceSpec
from monitor.config.secrets import SecretRef
from monitor.config.yamlfile import ConfigFileTooLarge, read_yaml_file, yaml_problem
from monitor.delivery.factory import operator_channel_problems
from monitor.errors import ConfigError, ConfigProblem
from monitor.fetch.addresses import literal_address_problem
from monitor.notify.base import ChannelRegistry
from monitor.notify.registry import builtin_registry
from monitor.rules import RuleSet, load_rules

DEFAULT_CHANNEL = "console"


@dataclass(frozen=True)
class AppConfig:
    """The whole validated configuration."""

    feeds_path: Path
    rules_dir: Path
    settings: Settings
    sources: tuple[SourceSpec, ...]
    channels: Mapping[str, ChannelSpec]
    ruleset: RuleSet
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def database_url(self) -> str:
        url = self.environ.get("DATABASE_URL") or self.settings.database_url
        if not url and self.environ.get("DATABASE_URL_FILE"):
            url = Path(self.environ["DATABASE_URL_FILE"]).read_text(encoding="utf-8").strip()
        if url:
            return url
        storage = Path(self.settings.storage_dir)
        if not storage.is_absolute():
            storage = self.feeds_path.parent / storage
        return f"sqlite:///{storage / 'monitor.db'}"

    def channels_for(self, rule_channels: Sequence[str]) -> tuple[str, ...]:
        """The channels a rule alerts: its own, else the configured defaults, else console."""
        if rule_channels:
            return tuple(rule_channels)
        if self.settings.default_channels:
            return self.settings.default_channels
        return (DEFAULT_CHANNEL,)


def _path(loc: Sequence[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pick(value: Any, loc: Sequence[int | str]) -> Any:
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _validate(
    model: type[BaseModel], raw: Any, file: str, prefix: str, problems: list[ConfigProblem]
) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not str(p).startswith("function-")]
            value = _pick(raw, loc) if err["type"] != "missing" else None
            message = _message(err)
            if _secret_like(loc, message):
                value = "<secret>" if value is not None else None
            problems.append(ConfigProblem(file, _path(loc, prefix), value, message))
        return None


SECRET_KEYS = frozenset({"password", "secret", "secrets", "token", "api_key", "url"})


def _secret_like(loc: Sequence[int | str], message: str) -> bool:
    """Whether a bad value may be a secret written in the clear: never echo it."""
    names = {str(p) for p in loc if isinstance(p, str)}
    return "never written literally" in message or bool(names & SECRET_KEYS)


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/configuration.md)"
    if err["type"] == "missing":
        return "required key is missing"
    return msg


def _secret_problems(
    options: BaseModel, environ: Mapping[str, str], file: str, prefix: str
) -> list[ConfigProblem]:
    problems = []
    for name, value in options:
        refs = value if isinstance(value, tuple) else (value,)
        for i, ref in enumerate(refs):
            if isinstance(ref, SecretRef):
                try:
                    ref.resolve(environ)
                except ValueError as exc:
                    suffix = f"[{i}]" if isinstance(value, tuple) else ""
                    problems.append(ConfigProblem(file, f"{prefix}.{name}{suffix}", None, str(exc)))
    return problems


def _load_channels(
    raw: Any,
    file: str,
    registry: ChannelRegistry,
    environ: Mapping[str, str],
    problems: list[ConfigProblem],
) -> dict[str, ChannelSpec]:
    channels: dict[str, ChannelSpec] = {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(
            ConfigProblem(file, "channels", raw, "expected a mapping of name: {type: ...}")
        )
        return channels
    for name, entry in raw.items():
        prefix = f"channels.{name}"
        kind = entry.get("type") if isinstance(entry, dict) else None
        channel_type = registry.get(str(kind)) if kind else None
        if channel_type is None:
            problems.append(
                ConfigProblem(
                    file,
                    f"{prefix}.type",
                    kind,
                    f"unknown channel type; valid types: {', '.join(registry.names())}",
                )
            )
            continue
        options = _validate(channel_type.options_model, entry, file, prefix, problems)
        if options is not None:
            problems.extend(_secret_problems(options, environ, file, prefix))
            channels[str(name)] = ChannelSpec(name=str(name), type=str(kind), options=options)
    if DEFAULT_CHANNEL not in channels:
        console = registry.get(DEFAULT_CHANNEL)
        assert console is not None
        channels[DEFAULT_CHANNEL] = ChannelSpec(
            name=DEFAULT_CHANNEL, type=DEFAULT_CHANNEL, options=console.options_model()
        )
    return channels


def _declared_names(raw: Any) -> set[str]:
    return {str(name) for name in raw} if isinstance(raw, dict) else set()


def _raw_allow_networks(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
    """`settings.fetch.allow_networks` when the rest of `settings` is invalid (so one bad setting
    does not turn every allowed loopback source into a problem); None if it is itself invalid."""
    fetch = _pick(raw, ["settings", "fetch"])
    value = fetch.get("allow_networks", ()) if isinstance(fetch, dict) else ()
    try:
        return FetchSettings(allow_networks=value).allow_networks
    except ValidationError:
        return None


def _load_sources(
    raw: Any, file: str, allow: tuple[str, ...] | None, problems: list[ConfigProblem]
) -> list[SourceSpec]:
    """Sources; literal private addresses are checked unless `allow` is unknown (None)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(ConfigProblem(file, "sources", raw, "expected a list of sources"))
        return []
    sources: list[SourceSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(
                ConfigProblem(
                    file, f"sources[{i}].name", name, "duplicate source name; names must be unique"
                )
            )
        seen.add(str(name))
        source = _validate(SourceSpec, entry, file, f"sources[{i}]", problems)
        if source is None:
            continue
        blocked = literal_address_problem(source.url, allow) if allow is not None else None
        if blocked:
            problems.append(ConfigProblem(file, f"sources[{i}].url", source.url, blocked))
        sources.append(source)
    return sources


def load_config(
    feeds_path: Path,
    rules_dir: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    registry: ChannelRegistry | None = None,
) -> AppConfig:
    """Load and validate everything; raise ConfigError listing every problem found."""
    environ = dict(os.environ) if environ is None else environ
    registry = registry or builtin_registry()
    rules_dir = rules_dir or feeds_path.parent / "rules"
    file = str(feeds_path)
    problems: list[ConfigProblem] = []
    try:
        raw = read_yaml_file(feeds_path) or {}
    except OSError as exc:
        raise ConfigError([ConfigProblem(file, "", None, f"cannot read: {exc.strerror}")]) from None
    except ConfigFileTooLarge as exc:
        raise ConfigError([ConfigProblem(file, "", None, str(exc))]) from None
    except yaml.YAMLError as exc:
        where, what = yaml_problem(exc)
        raise ConfigError([ConfigProblem(file, where, None, f"not valid YAML: {what}")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(file, "", raw, "expected a mapping at the top level")])
    for key in sorted(set(raw) - {"settings", "sources", "channels"}):
        problems.append(
            ConfigProblem(
                file, str(key), None, "unknown top-level key; valid: settings, sources, channels"
            )
        )
    settings = _validate(Settings, raw.get("settings") or {}, file, "settings", problems)
    allow = settings.fetch.allow_networks if settings else _raw_allow_networks(raw)
    sources = _load_sources(raw.get("sources"), file, allow, problems)
    channels = _load_channels(raw.get("channels"), file, registry, environ, problems)
    # a channel that is declared but invalid was reported once: names using it are not "undefined"
    declared = set(channels) | _declared_names(raw.get("channels"))
    ruleset = None
    try:
        ruleset = load_rules(rules_dir, settings.rules if settings is not None else None)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if settings is not None:
        for message in operator_channel_problems(settings.delivery, declared):
            path, _, detail = message.partition(": ")
            problems.append(ConfigProblem(file, path, None, detail))
        for i, name in enumerate(settings.default_channels):
            if name not in declared:
                problems.append(
                    ConfigProblem(
                        file,
                        f"settings.default_channels[{i}]",
                        name,
                        f"undefined channel; defined: {', '.join(sorted(channels))}",
                    )
                )
    if ruleset is not None:
        for rule in ruleset.rules:
            for name in rule.channels:
                if name not in declared:
                    problems.append(
                        ConfigProblem(
                            rule.file,
                            f"rules.{rule.name}.channels",
                            name,
                            f"undefined channel used in rule; defined in {file}: "
                            + ", ".join(sorted(channels)),
                        )
                    )
    if problems or settings is None or ruleset is None:
        raise ConfigError(problems)
    return AppConfig(feeds_path, rules_dir, settings, tuple(sources), channels, ruleset, environ)
