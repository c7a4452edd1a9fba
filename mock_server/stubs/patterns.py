"""WireMock's request patterns, matched as WireMock's documentation says (wiremock.org, "Request Matching"):

- URL: `url` (path and query, equal), `urlPath` (path, equal), `urlPattern` (path and query, regex over the whole),
  `urlPathPattern` (path, regex over the whole); none of them: any URL. `method`: equal, or `ANY`.
- `queryParameters` and `headers` (names case-insensitive): each a value pattern; a parameter given several times
  matches when one of its values does; `absent: true` when there is none.
- `bodyPatterns`: every one must hold.
- Value patterns: `equalTo` (with `caseInsensitive`), `contains`, `doesNotContain`, `matches` and `doesNotMatch`
  (Java's `String.matches`: the whole value), `absent`, `equalToJson` (with `ignoreArrayOrder`,
  `ignoreExtraElements`), `matchesJsonPath` (an expression that finds something, or `{expression, <pattern>}` whose
  result the pattern must match), `and`, `or`, `not`.

Each match also says how far off it was (0 exact, 1 nothing alike) and what differed: the near misses.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonpath

ANY_METHOD = "ANY"


@dataclass(frozen=True, slots=True)
class Request:
    """A request as the patterns see it (live, or from the journal)."""

    method: str
    path: str
    query: str  # the raw query string, without '?'
    headers: Mapping[str, str]  # names in lower case
    body: str

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in parse_qsl(self.query, keep_blank_values=True) if key == name]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How well a request fits a pattern: 0.0 is a match; each difference is named."""

    distance: float
    differences: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return not self.differences


def _similarity_gap(expected: str, actual: str) -> float:
    return 1.0 - difflib.SequenceMatcher(None, expected, actual).ratio()


def value_matches(pattern: Mapping[str, Any], value: str | None) -> bool:
    """A value pattern against one value (None: the value is absent)."""
    if "absent" in pattern:
        return (value is None) == bool(pattern["absent"])
    if "and" in pattern:
        return all(value_matches(p, value) for p in pattern["and"])
    if "or" in pattern:
        return any(value_matches(p, value) for p in pattern["or"])
    if "not" in pattern:
        return not value_matches(pattern["not"], value)
    if value is None:
        return False
    for kind, test in _STRING_TESTS.items():
        if kind in pattern:
            return test(pattern, value)
    raise ValueError(f"unsupported value pattern: {', '.join(sorted(pattern))}")


def _equal_to(pattern: Mapping[str, Any], value: str) -> bool:
    expected = str(pattern["equalTo"])
    if pattern.get("caseInsensitive"):
        return expected.casefold() == value.casefold()
    return expected == value


_STRING_TESTS: dict[str, Callable[[Mapping[str, Any], str], bool]] = {
    "equalTo": _equal_to,
    "contains": lambda p, v: str(p["contains"]) in v,
    "doesNotContain": lambda p, v: str(p["doesNotContain"]) not in v,
    "matches": lambda p, v: re.fullmatch(str(p["matches"]), v, re.DOTALL) is not None,
    "doesNotMatch": lambda p, v: re.fullmatch(str(p["doesNotMatch"]), v, re.DOTALL) is None,
    "equalToJson": lambda p, v: _json_equal(p, v),
    "matchesJsonPath": lambda p, v: _json_path_matches(p["matchesJsonPath"], v),
}


def describe(pattern: Mapping[str, Any]) -> str:
    """A pattern in one line, for the near misses."""
    return json.dumps(pattern, ensure_ascii=False, separators=(",", ":"))


def _json_equal(pattern: Mapping[str, Any], value: str) -> bool:
    expected = pattern["equalToJson"]
    if isinstance(expected, str):
        try:
            expected = json.loads(expected)
        except ValueError:
            return False
    try:
        actual = json.loads(value)
    except ValueError:
        return False
    return _json_fits(
        expected,
        actual,
        ignore_order=bool(pattern.get("ignoreArrayOrder")),
        ignore_extra=bool(pattern.get("ignoreExtraElements")),
    )


def _json_fits(expected: Any, actual: Any, *, ignore_order: bool, ignore_extra: bool) -> bool:
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or (not ignore_extra and set(actual) != set(expected)):
            return False
        return all(
            key in actual and _json_fits(value, actual[key], ignore_order=ignore_order, ignore_extra=ignore_extra)
            for key, value in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list) or (not ignore_extra and len(actual) != len(expected)):
            return False
        if not ignore_order:
            if ignore_extra:  # the expected elements, in order, at the start (WireMock compares element by element)
                actual = actual[: len(expected)]
            return len(actual) == len(expected) and all(
                _json_fits(e, a, ignore_order=ignore_order, ignore_extra=ignore_extra)
                for e, a in zip(expected, actual, strict=True)
            )
        remaining = list(actual)
        for item in expected:  # each expected element matched by a different actual one
            found = next(
                (
                    i
                    for i, candidate in enumerate(remaining)
                    if _json_fits(item, candidate, ignore_order=ignore_order, ignore_extra=ignore_extra)
                ),
                None,
            )
            if found is None:
                return False
            remaining.pop(found)
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def _json_path_matches(spec: str | Mapping[str, Any], value: str) -> bool:
    try:
        document = json.loads(value)
    except ValueError:
        return False
    expression = spec if isinstance(spec, str) else str(spec["expression"])
    try:
        found = find_json_path(expression, document)
    except jsonpath.JSONPathError:
        return False
    if isinstance(spec, str):
        return bool(found)
    sub = {key: item for key, item in spec.items() if key != "expression"}
    if not found:
        return value_matches(sub, None)
    result = found[0] if len(found) == 1 else found
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    return value_matches(sub, text)


def find_json_path(expression: str, document: Any) -> list[Any]:
    """What a JSONPath finds, as WireMock's Jayway JsonPath finds it: a filter right at the root of an object
    (`$[?(@.item == 'milk')]`) tests the object itself (python-jsonpath would test its members)."""
    if isinstance(document, dict) and expression.replace(" ", "").startswith("$[?"):
        return list(jsonpath.findall(expression, [document]))
    return list(jsonpath.findall(expression, document))


def check_value_pattern(pattern: Any, where: str) -> list[str]:
    """What in a value pattern this kit cannot match (named, so a mapping is refused rather than half-matched)."""
    if not isinstance(pattern, Mapping):
        return [f'{where}: a value pattern is an object, e.g. {{"equalTo": "x"}}']
    supported = {"equalTo", "contains", "doesNotContain", "matches", "doesNotMatch", "absent", "equalToJson",
                 "matchesJsonPath", "and", "or", "not"}  # fmt: skip
    options = {"caseInsensitive", "ignoreArrayOrder", "ignoreExtraElements"}
    kinds = [key for key in pattern if key not in options]
    if len(kinds) != 1 or kinds[0] not in supported:
        given = ", ".join(sorted(kinds)) or "no matcher"
        return [f"{where}: {given} is not supported (one of {', '.join(sorted(supported))})"]
    kind = kinds[0]
    problems: list[str] = []
    if kind in ("and", "or"):
        for number, part in enumerate(pattern[kind] or []):
            problems += check_value_pattern(part, f"{where}.{kind}[{number}]")
    elif kind == "not":
        problems += check_value_pattern(pattern["not"], f"{where}.not")
    elif kind in ("matches", "doesNotMatch"):
        try:
            re.compile(str(pattern[kind]))
        except re.error as exc:
            problems.append(f"{where}.{kind}: not a regular expression ({exc})")
    elif kind == "matchesJsonPath" and isinstance(pattern[kind], Mapping):
        spec = pattern[kind]
        problems += check_value_pattern(
            {k: v for k, v in spec.items() if k != "expression"}, f"{where}.matchesJsonPath"
        )
    return problems


@dataclass(frozen=True)
class RequestPattern:
    """A WireMock request pattern (the `request` of a stub mapping, or a verification's body)."""

    data: Mapping[str, Any]

    def evaluate(self, request: Request) -> Outcome:
        parts: list[tuple[float, str | None]] = [self._method(request), self._url(request)]
        for name, pattern in (self.data.get("queryParameters") or {}).items():
            values = request.query_values(name)
            fits = any(value_matches(pattern, v) for v in values) if values else value_matches(pattern, None)
            parts.append(
                (0.0, None) if fits else (1.0, f"query parameter {name}: {describe(pattern)}, got {values or 'none'}")
            )
        for name, pattern in (self.data.get("headers") or {}).items():
            value = request.headers.get(name.lower())
            fits = value_matches(pattern, value)
            parts.append((0.0, None) if fits else (1.0, f"header {name}: {describe(pattern)}, got {value!r}"))
        for pattern in self.data.get("bodyPatterns") or []:
            fits = value_matches(pattern, request.body)
            gap = 0.0 if fits else (_similarity_gap(_body_hint(pattern), request.body) if request.body else 1.0)
            parts.append(
                (gap, None) if fits else (max(gap, 0.01), f"body: {describe(pattern)}, got {_cut(request.body)!r}")
            )
        distance = sum(gap for gap, _ in parts) / len(parts)
        return Outcome(round(distance, 4), tuple(d for _, d in parts if d))

    def _method(self, request: Request) -> tuple[float, str | None]:
        method = str(self.data.get("method") or ANY_METHOD).upper()
        if method in (ANY_METHOD, request.method.upper()):
            return 0.0, None
        return 1.0, f"method: expected {method}, got {request.method.upper()}"

    def _url(self, request: Request) -> tuple[float, str | None]:
        for key, actual, regex in (
            ("url", request.url, False),
            ("urlPath", request.path, False),
            ("urlPattern", request.url, True),
            ("urlPathPattern", request.path, True),
        ):
            if key in self.data:
                expected = str(self.data[key])
                fits = re.fullmatch(expected, actual) is not None if regex else expected == actual
                if fits:
                    return 0.0, None
                return max(_similarity_gap(expected, actual), 0.01), f"{key}: expected {expected}, got {actual}"
        return 0.0, None


def _body_hint(pattern: Mapping[str, Any]) -> str:
    for key in ("equalToJson", "equalTo", "contains", "matches"):
        if key in pattern:
            value = pattern[key]
            return value if isinstance(value, str) else json.dumps(value)
    return describe(pattern)


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def check_request_pattern(data: Any, where: str = "request") -> list[str]:
    """What in a request pattern is wrong or not supported, each named by its place."""
    if not isinstance(data, Mapping):
        return [f"{where}: a request pattern is an object"]
    supported = {
        "method",
        "url",
        "urlPath",
        "urlPattern",
        "urlPathPattern",
        "queryParameters",
        "headers",
        "bodyPatterns",
    }
    problems = [f"{where}.{key}: not supported by pruefstand's stubs" for key in data if key not in supported]
    urls = [key for key in ("url", "urlPath", "urlPattern", "urlPathPattern") if key in data]
    if len(urls) > 1:
        problems.append(
            f"{where}: only one of url, urlPath, urlPattern, urlPathPattern may be given (got {', '.join(urls)})"
        )
    for key in ("urlPattern", "urlPathPattern"):
        if key in data:
            try:
                re.compile(str(data[key]))
            except re.error as exc:
                problems.append(f"{where}.{key}: not a regular expression ({exc})")
    for group in ("queryParameters", "headers"):
        for name, pattern in (data.get(group) or {}).items():
            problems += check_value_pattern(pattern, f"{where}.{group}.{name}")
    body_patterns = data.get("bodyPatterns") or []
    if not isinstance(body_patterns, Sequence) or isinstance(body_patterns, str):
        problems.append(f"{where}.bodyPatterns: a list of value patterns")
    else:
        for number, pattern in enumerate(body_patterns):
            problems += check_value_pattern(pattern, f"{where}.bodyPatterns[{number}]")
    return problems
