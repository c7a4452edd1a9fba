"""What a flow's handler knows of the request it answers, handed to it as its `call` parameter by the HTTP layer
(http/stack.py binds it): the headers, the query as sent, the verified token's claims. Flow handlers never reach into
the web framework's request context."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name


@dataclass(frozen=True, slots=True)
class Call:
    headers: Mapping[str, str]  # case-insensitive, as the framework's headers are
    query: Mapping[str, str] = field(default_factory=dict)  # every query parameter, also those no contract lists
    token_info: Mapping[str, Any] = field(default_factory=dict)  # what the API's bearer check returned
    form: tuple[tuple[str, str], ...] = ()  # a form body's pairs as sent, repeats included

    def repeated_form_fields(self) -> list[str]:
        names = [name for name, _ in self.form]
        return sorted({name for name in names if names.count(name) > 1})

    @property
    def sandbox(self) -> str:
        """The sandbox the request names (`X-Pruefstand-Sandbox`), else `default`; a malformed name is a 400."""
        return sandbox_name(self.headers.get(SANDBOX_HEADER))

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def base_url(self) -> str:
        """Where the client reached the mock (`http://host:port`), as it addressed it: from `Forwarded` (RFC 7239) or
        `X-Forwarded-Proto`/`-Host` when a proxy stands in front, else the `Host` header."""
        return request_base(self.headers)


def request_base(headers: Mapping[str, str]) -> str:
    """The scheme and authority a request was addressed to (see Call.base_url)."""
    forwarded = _forwarded(headers.get("forwarded") or "")
    proto = forwarded.get("proto") or _first(headers.get("x-forwarded-proto")) or "http"
    host = forwarded.get("host") or _first(headers.get("x-forwarded-host")) or headers.get("host") or "localhost"
    if proto.lower() not in ("http", "https") or not _AUTHORITY.fullmatch(host):
        proto, host = "http", headers.get("host") or "localhost"
        if not _AUTHORITY.fullmatch(host):
            host = "localhost"
    return f"{proto.lower()}://{host}"


_AUTHORITY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


def _forwarded(value: str) -> dict[str, str]:
    """The first element of an RFC 7239 Forwarded header, its parameters by (lower-case) name."""
    found: dict[str, str] = {}
    for pair in value.split(",")[0].split(";"):
        name, sep, text = pair.strip().partition("=")
        if sep:
            found[name.strip().lower()] = text.strip().strip('"')
    return found
