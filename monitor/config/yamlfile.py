"""YAML reading for configuration files: safe, strict about duplicate keys, and bounded.

PyYAML's safe loader keeps the last of two equal keys, so a second `mail:` channel or a repeated
`interval:` would silently replace the first. `StrictLoader` refuses them, with the line number.

It also bounds what a hostile or broken file can cost. Aliases are shared nodes while parsing,
but everything that walks the result afterwards (validation, copying) expands them, so a
"billion laughs" file of a few hundred bytes becomes billions of values: the nodes that aliases
bring in are counted and the file is refused past `ALIAS_BUDGET`, naming the alias's line.
Recursive aliases and nesting deeper than `MAX_DEPTH` are refused the same way (the latter
before Python's recursion limit is reached), and files larger than `max_config_bytes()` are
refused before they are read. libyaml parses (it is iterative and several times faster than
PyYAML's Python parser) but does not compose: its composer recurses in C and crashes the
interpreter on deeply nested input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

DEFAULT_MAX_CONFIG_BYTES = 2 * 2**20
MAX_CONFIG_BYTES_ENV = "MONITOR_MAX_CONFIG_BYTES"
ALIAS_BUDGET = 10_000  # nodes that aliases may add in one document
MAX_DEPTH = 100  # nested sequences/mappings


class ConfigFileTooLarge(yaml.YAMLError):
    """A configuration file is larger than the limit; refused before it is parsed."""


def max_config_bytes() -> int:
    """The size limit of one configuration file: MONITOR_MAX_CONFIG_BYTES, else 2 MiB."""
    raw = os.environ.get(MAX_CONFIG_BYTES_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_CONFIG_BYTES


def _too_large(size: int, limit: int) -> ConfigFileTooLarge:
    return ConfigFileTooLarge(
        f"file is {size:,} bytes; configuration files are limited to {limit:,} bytes "
        f"(raise {MAX_CONFIG_BYTES_ENV} if this file is really meant to be that large)"
    )


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Nodes in `node` once every alias below it is expanded (memoised; no recursion)."""
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        if id(current) in memo:
            continue
        children = _children(current)
        if children_done:
            memo[id(current)] = 1 + sum(memo[id(c)] for c in children)
            continue
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(node)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class StrictLoader(CParser, yaml.SafeLoader):
    """A safe loader that refuses duplicate keys, alias bombs, deep nesting and huge input.

    libyaml (`CParser`) produces the events; PyYAML's Python composer, named explicitly below
    because `CParser` has its own, builds the nodes, so that depth and aliases are checked here
    before anything recurses. Constructing and resolving are the safe loader's.
    """

    check_node = Composer.check_node
    get_node = Composer.get_node
    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node

    def __init__(self, stream: Any) -> None:
        limit = max_config_bytes()
        if isinstance(stream, str | bytes) and len(stream) > limit:
            raise _too_large(len(stream), limit)
        CParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._alias_nodes = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None and target.end_mark is None:
                raise ComposerError(
                    None, None, f"recursive alias *{event.anchor} is not allowed", mark
                )
            if target is not None:
                self._alias_nodes += _expanded_size(target, self._sizes)
                if self._alias_nodes > ALIAS_BUDGET:
                    raise ComposerError(
                        None,
                        None,
                        f"aliases expand to more than {ALIAS_BUDGET:,} values "
                        f"(at *{event.anchor}); write the values out or use fewer aliases",
                        mark,
                    )
            return Composer.compose_node(self, parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                )
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: let PyYAML report it with its own message
                continue
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML text with `StrictLoader`; raises yaml.YAMLError on any problem."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def read_yaml_file(path: Path) -> Any:
    """Read and parse a configuration file, refusing it by size before reading it.

    Raises OSError if it cannot be read, yaml.YAMLError (with a line in `problem_mark` when
    there is one) if it is too large, not UTF-8 or not acceptable YAML.
    """
    limit = max_config_bytes()
    size = path.stat().st_size
    if size > limit:
        raise _too_large(size, limit)
    data = path.read_bytes()
    if len(data) > limit:  # grew since stat
        raise _too_large(len(data), limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise yaml.YAMLError(f"not UTF-8 text (byte {exc.start})") from None
    return load_yaml(text)


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, str]:
    """(where, what) for a YAML error: `line 3` and a one-line message without PyYAML's layout."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return where, what or "not valid YAML"
    return "", str(exc) or "not valid YAML"
