"""A small structural JSON Schema checker (the subset our payload schema uses).

`jsonschema` is not installed in this project; this covers type, const, enum, required,
properties, additionalProperties: false, items, minItems/maxItems, oneOf and local $ref.
"""

from __future__ import annotations

from typing import Any

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def errors(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return errors(instance, node, root, path)
    found: list[str] = []
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not errors(instance, s, root, path)]
        if len(matches) != 1:
            found.append(f"{path}: matches {len(matches)} of oneOf")
    if "const" in schema and instance != schema["const"]:
        found.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        found.append(f"{path}: not in {schema['enum']}")
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        def ok(kind: str) -> bool:
            if kind == "integer":
                return isinstance(instance, int) and not isinstance(instance, bool)
            return isinstance(instance, _TYPES[kind]) and not (
                kind != "boolean" and isinstance(instance, bool))
        if not any(ok(k) for k in kinds):
            return [*found, f"{path}: expected {kinds}, got {type(instance).__name__}"]
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                found.append(f"{path}: missing {key}")
        props = schema.get("properties", {})
        for key, value in instance.items():
            if key in props:
                found += errors(value, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: unexpected {key}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0) or len(instance) > schema.get("maxItems", 10**9):
            found.append(f"{path}: wrong length")
        if "items" in schema:
            for i, item in enumerate(instance):
                found += errors(item, schema["items"], root, f"{path}[{i}]")
    return found
