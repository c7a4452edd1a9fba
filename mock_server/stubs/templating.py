"""WireMock's `response-template` transformer, with a Handlebars implementation (pybars4), not a parser of our own.

The request model and helpers follow WireMock's "Response Templating" documentation, for the parts pruefstand
supports: `request.url`, `request.path` (and its segments `request.path.[n]`, also `request.pathSegments.[n]`),
`request.query.<name>` (and `.[n]` for repeated ones), `request.method`, `request.headers.<name>`, `request.body`,
`request.baseUrl`; helpers `jsonPath`, `now` (`format` as `epoch`, `unix` or a Java date pattern's common letters,
`offset` such as `3 days` or `-1 hours`), `randomValue` (`type` UUID, ALPHANUMERIC, ALPHABETIC, NUMERIC, HEXADECIMAL;
`length`; `uppercase`), `upper`, `lower`, `size`. Like WireMock, nothing is HTML-escaped.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import jsonpath

from pruefstand.mock_server.stubs.patterns import Request, find_json_path

_cache: dict[str, Callable[..., str]] = {}


@functools.cache
def _compiler() -> Any:
    """pybars, imported when the first template is compiled (its grammar costs 0.4 s: not for every start)."""
    import pybars

    return pybars.Compiler()


class _Lenient(dict[str, Any]):
    """What a template reads: a name the request does not have reads as empty, as in WireMock."""

    def __missing__(self, _name: str) -> Any:
        return _Segments("", [])


class _Segments(_Lenient):
    """A value that prints whole and gives its parts by position (`{{request.path.[1]}}`)."""

    def __init__(self, whole: str, parts: list[str]) -> None:
        super().__init__({str(number): part for number, part in enumerate(parts)})
        self.whole = whole

    def __str__(self) -> str:
        return self.whole


def request_model(request: Request, base_url: str) -> dict[str, Any]:
    segments = [part for part in request.path.split("/") if part]
    query = _Lenient()
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query.setdefault(name, _Segments(value, []))
        query[name][str(len(query[name]))] = value
    return _Lenient(
        {
            "url": request.url,
            "path": _Segments(request.path, segments),
            "pathSegments": _Segments(request.path, segments),
            "query": query,
            "method": request.method.upper(),
            "headers": _Lenient(
                {name.lower(): value for name, value in request.headers.items()}
                | {_title(name): value for name, value in request.headers.items()}
            ),
            "body": request.body,
            "baseUrl": base_url,
        }
    )


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def render(template: str, request: Request, base_url: str) -> str:
    """The template with the request filled in; a template that cannot be compiled raises TemplateError."""
    compiled = _cache.get(template)
    if compiled is None:
        try:
            compiled = _compiler().compile(template)
        except Exception as exc:  # pybars raises its own and PyMeta's errors
            raise TemplateError(f"not a Handlebars template: {exc}") from exc
        _cache[template] = compiled
    try:
        return str(compiled({"request": request_model(request, base_url)}, helpers=HELPERS))
    except Exception as exc:
        raise TemplateError(f"the template could not be filled: {exc}") from exc


def check(template: str) -> str | None:
    """Why a template cannot be compiled, or filled for a plain request (a helper given the wrong arguments), or
    None: a stub is refused when it is added, not answered with a 500 later."""
    try:
        if template not in _cache:
            _cache[template] = _compiler().compile(template)
    except Exception as exc:
        return f"not a Handlebars template: {exc}"
    try:
        render(template, Request("POST", "/a/b", "q=1", {"content-type": "application/json"}, '{"a": 1}'), "http://x")
    except TemplateError as exc:
        return str(exc)
    return None


class TemplateError(ValueError):
    pass


def _json_path(_this: Any, document: Any, expression: str, *_rest: Any, **_options: Any) -> str:
    try:
        data = json.loads(str(document)) if isinstance(document, str | _Segments) else document
        found = find_json_path(str(expression), data)
    except (ValueError, jsonpath.JSONPathError):
        return ""
    if not found:
        return ""
    value = found[0] if len(found) == 1 else found
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_JAVA_DATE = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%f")]
_UNITS = {"second": "seconds", "minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}


def _now(_this: Any, *_args: Any, **options: Any) -> str:
    moment = datetime.now(UTC)
    offset = str(options.get("offset") or "").strip()
    if offset:
        found = re.fullmatch(r"(-?\d+)\s+(second|minute|hour|day|week)s?", offset)
        if found:
            moment += timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    fmt = str(options.get("format") or "")
    if fmt in ("epoch",):
        return str(int(moment.timestamp() * 1000))
    if fmt == "unix":
        return str(int(moment.timestamp()))
    if not fmt:
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    for java, python in _JAVA_DATE:
        fmt = fmt.replace(java, python)
    text = moment.strftime(fmt.replace("'T'", "T").replace("'Z'", "Z"))
    return text.replace(moment.strftime("%f"), moment.strftime("%f")[:3]) if "%f" in fmt else text


_ALPHABETS = {
    "ALPHANUMERIC": string.ascii_letters + string.digits,
    "ALPHABETIC": string.ascii_letters,
    "NUMERIC": string.digits,
    "HEXADECIMAL": "0123456789abcdef",
}


def _random_value(_this: Any, *_args: Any, **options: Any) -> str:
    kind = str(options.get("type") or "ALPHANUMERIC").upper()
    if kind == "UUID":
        return str(uuid.uuid4())
    alphabet = _ALPHABETS.get(kind, _ALPHABETS["ALPHANUMERIC"])
    value = "".join(secrets.choice(alphabet) for _ in range(int(options.get("length") or 36)))
    return value.upper() if options.get("uppercase") else value


HELPERS: Mapping[str, Callable[..., str]] = {
    "jsonPath": _json_path,
    "now": _now,
    "randomValue": _random_value,
    "upper": lambda _this, value, *_a, **_k: str(value).upper(),
    "lower": lambda _this, value, *_a, **_k: str(value).lower(),
    "size": lambda _this, value, *_a, **_k: str(len(value)),
}
