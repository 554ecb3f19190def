"""Settings of a mock: what the org is and what the server is; defaults, a TOML file, MOCKGC_* variables, options."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

MAX_BODY_BYTES = 512_000
# Refused before routing or journaling, so a token-less client cannot park megabytes per request.
MAX_URI_BYTES = 8192  # the request target (path and query), as common front ends allow
MAX_HEADER_BYTES = 16_384  # every header field together


@dataclass(frozen=True)
class OrgSettings:
    """What the org is: the only settings the domain sees."""

    seed: int = 1
    agents: int = 50
    profile: str = "seed-default"
    client_id: str = "mockgc-client"
    client_secret: str = ""
    rate_limit_per_minute: int = 300  # 0 turns the limit off for the default client
    token_ttl_seconds: int = 86_400
    # A served mock moves interactions idle this long to an embedded SQLite file (the ground
    # truth reads both), so memory stays flat over a soak; 0 keeps everything in memory.
    archive_after_seconds: int = 60
    script_data_chunk_limit: int = 100

    def validate(self) -> OrgSettings:
        if self.agents < 1:
            raise ValueError("agents must be at least 1")
        if self.archive_after_seconds < 0:
            raise ValueError("archive_after_seconds must not be negative")
        if self.rate_limit_per_minute < 0 or self.script_data_chunk_limit < 1:
            raise ValueError("rate_limit_per_minute and script_data_chunk_limit must be positive")
        return self


@dataclass(frozen=True)
class ServerSettings:
    """What the server is: where it listens, how it runs, and what guards its admin API."""

    host: str = "127.0.0.1"
    port: int = 8321
    clock: Literal["system", "virtual"] = "system"
    admin_key: str = ""
    journal_size: int = 10_000  # the request journal's ring buffer (GET /mock/journal)
    threads: int = 16
    # The base URL clients reach the mock at: pre-signed upload and download URLs are built from it,
    # never from a request's Host header (which any caller sets). Empty: the address the server bound.
    public_url: str = ""

    def validate(self) -> ServerSettings:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.clock not in ("system", "virtual"):
            raise ValueError("clock must be 'system' or 'virtual'")
        if self.journal_size < 1:
            raise ValueError("journal_size must be positive")
        if self.public_url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", self.public_url):
            raise ValueError(f"public_url must be an http(s) base URL, got {self.public_url!r}")
        return self


_ORG_FIELDS = {f.name: f for f in fields(OrgSettings)}
_SERVER_FIELDS = {f.name: f for f in fields(ServerSettings)}


@dataclass(frozen=True, init=False)
class Settings:
    """Everything `mockgc serve` is configured with, in one flat namespace (the file's, the variables'),
    split into the server's part and the org's part."""

    server: ServerSettings
    org: OrgSettings

    def __init__(self, server: ServerSettings | None = None, org: OrgSettings | None = None, **values: Any) -> None:
        unknown = set(values) - set(_ORG_FIELDS) - set(_SERVER_FIELDS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        server_values = {k: v for k, v in values.items() if k in _SERVER_FIELDS}
        org_values = {k: v for k, v in values.items() if k in _ORG_FIELDS}
        object.__setattr__(self, "server", replace(server or ServerSettings(), **server_values))
        object.__setattr__(self, "org", replace(org or OrgSettings(), **org_values))

    def with_credentials(self) -> Settings:
        """Fill in credentials that were not given, so a started server always has them."""
        return replace(
            self,
            admin_key=self.server.admin_key or secrets.token_urlsafe(18),
            client_secret=self.org.client_secret or secrets.token_urlsafe(18),
        )

    def validate(self) -> Settings:
        self.server.validate()
        self.org.validate()
        return self


def _coerce(name: str, raw: Any) -> Any:
    kind = (_ORG_FIELDS.get(name) or _SERVER_FIELDS[name]).type
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    return str(raw)


def load_settings(
    config_file: str | Path | None = None, environ: dict[str, str] | None = None, **overrides: Any
) -> Settings:
    """Layer the sources; an unknown key in the file is an error rather than silently ignored."""
    environ = os.environ if environ is None else environ
    known = set(_ORG_FIELDS) | set(_SERVER_FIELDS)
    values: dict[str, Any] = {}
    if config_file:
        try:
            data = tomllib.loads(Path(config_file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"cannot read config file {config_file}: {error}") from None
        except RecursionError:
            raise ValueError(f"config file {config_file} nests too deeply to be settings") from None
        if "mockgc" in data and not isinstance(data["mockgc"], dict):
            raise ValueError(f"config file {config_file}: [mockgc] must be a table")
        if "mockgc" in data and set(data) != {"mockgc"}:
            others = ", ".join(sorted(set(data) - {"mockgc"}))
            raise ValueError(f"config file {config_file} has a [mockgc] table and top-level keys ({others}): use one")
        data = data.get("mockgc", data)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update({k: _coerce(k, v) for k, v in data.items()})
    for name in known:
        env = environ.get(f"MOCKGC_{name.upper()}")
        if env is not None:
            values[name] = _coerce(name, env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values).validate()
