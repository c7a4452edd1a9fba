"""What a flow's handler knows of the request it answers, handed to it as its `call` parameter by the HTTP layer
(http/stack.py binds it): the headers, the query as sent, the verified token's claims. Flow handlers never reach into
the web framework's request context."""

from __future__ import annotations

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
