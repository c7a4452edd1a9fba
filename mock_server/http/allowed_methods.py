"""Which methods a path offers, from the contracts: the `Allow` header of a 405 (RFC 9110 §15.5.6)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]+\}")


class AllowedMethods:
    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], list[str]]] = []

    def add_api(self, base_path: str, document: Mapping[str, Any]) -> None:
        for template, item in document.get("paths", {}).items():
            methods = [m.upper() for m in _METHODS if isinstance(item, Mapping) and m in item]
            if "GET" in methods and "HEAD" not in methods:
                methods.append("HEAD")
            literal_parts = _PARAM.split(base_path.rstrip("/") + template)
            pattern = "[^/]+".join(re.escape(part) for part in literal_parts)
            self._routes.append((re.compile(pattern + "$"), methods))

    def for_path(self, path: str) -> Iterable[str]:
        for pattern, methods in self._routes:
            if pattern.match(path):
                return methods
        return ()
