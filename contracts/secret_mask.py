"""Secrets kept out of every report: values an auth provider holds or received, and credential headers by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_SHORTEST = 4  # shorter values would mask ordinary text; no real secret is this short


class SecretMask:
    """Replaces every known secret (as given, URL-encoded, form-encoded) in text; blanks credential headers.

    `values` is asked again at each use, so a token renewed in the middle of a run is masked too."""

    def __init__(self, values: Callable[[], Iterable[str]] = tuple) -> None:
        self._values = values

    def _known(self) -> list[str]:
        found: set[str] = set()
        for value in self._values():
            if len(value) >= _SHORTEST:
                found |= {value, quote(value, safe=""), quote_plus(value)}
        return sorted(found, key=len, reverse=True)  # a longer form first, so a part never leaves the rest behind

    def text(self, text: str) -> str:
        for value in self._known():
            text = text.replace(value, MASK)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: MASK if k.lower() in CREDENTIAL_HEADERS else self.text(v) for k, v in headers.items()}
