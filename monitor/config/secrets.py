"""Secrets: values that come from an environment variable or a file, and never print.

In `feeds.yaml` a secret is written `{env: NAME}` or `{file: /run/secrets/name}`; a literal
string is refused at load. A resolved secret is a :class:`Secret`, whose `repr` and `str` are
`<secret>`; only `reveal()` gives the value, at the point where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Secret:
    """A secret string that prints as `<secret>` everywhere."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretRef(BaseModel):
    """Where a secret comes from: exactly one of `env` or `file`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_literal(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                "secrets are never written literally: use {env: VARIABLE} or {file: PATH}"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self

    def resolve(self, environ: Mapping[str, str]) -> Secret:
        """Read the secret; raises ValueError naming the variable or file (never the value)."""
        if self.env is not None:
            if self.env in environ:
                return Secret(environ[self.env])
            file_var = f"{self.env}_FILE"
            if file_var in environ:
                return _read_file(environ[file_var])
            raise ValueError(f"environment variable {self.env} (or {file_var}) is not set")
        assert self.file is not None
        return _read_file(self.file)


def _read_file(path: str) -> Secret:
    try:
        return Secret(Path(path).read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
