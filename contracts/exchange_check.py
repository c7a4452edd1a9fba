"""Check one HTTP exchange seen on the wire (a request and the answer to it) against a contract: which operation it
was, and every way the request or the answer breaks that operation's contract.

Used where pruefstand only watches (the validating proxy): nothing is refused here, every problem is reported, named
by where it is (`query.limit`, `header.X-Request-Id`, `$.productOrderItem[0].action`) and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from pruefstand.contracts.errors import MalformedMessage
from pruefstand.contracts.json_body import parse_json_body
from pruefstand.contracts.message_validation import SchemaValidator, Violation
from pruefstand.contracts.spec_loader import Spec

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class MatchedOperation:
    """The operation a request was for, with the values of its path parameters as they came (decoded)."""

    operation_id: str
    method: str
    template: str
    operation: Mapping[str, Any] = field(repr=False)
    path_params: dict[str, str]


@dataclass(frozen=True)
class RequestCheck:
    operation: MatchedOperation | None
    violations: list[Violation]
    body: Any = None  # the JSON body as parsed (None when there was none or it was not JSON)
    form: dict[str, str] | None = None


class ExchangeChecker:
    """Matches requests to the operations of one contract and validates both directions of an exchange.

    Paths are matched as the contract writes them, relative to the API's base URL; a literal segment wins over a
    template (`/items/export` before `/items/{id}`). Validators are compiled once per schema.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._routes: list[tuple[re.Pattern[str], str, str, Mapping[str, Any]]] = []
        document = spec.document
        for template, item in document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in _METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                merged = {**operation, "parameters": _merged_parameters(shared, operation.get("parameters", []))}
                self._routes.append((_path_pattern(template), method, template, merged))
        # literal paths first, then fewer parameters: the most specific template matches
        self._routes.sort(key=lambda route: (route[2].count("{"), -len(route[2])))
        self._validators: dict[int, SchemaValidator] = {}

    def match(self, method: str, path: str) -> MatchedOperation | None:
        wanted = method.lower()
        for pattern, route_method, template, operation in self._routes:
            if route_method != wanted:
                continue
            found = pattern.fullmatch(path)
            if found:
                return MatchedOperation(
                    operation_id=str(operation.get("operationId") or f"{method.upper()} {template}"),
                    method=route_method,
                    template=template,
                    operation=operation,
                    path_params={k: unquote(v) for k, v in found.groupdict().items()},
                )
        return None

    def paths_with(self, path: str) -> list[str]:
        """The methods the contract has for this path (for 'method not in the contract')."""
        return sorted({m.upper() for pattern, m, _, _ in self._routes if pattern.fullmatch(path)})

    def check_request(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> RequestCheck:
        matched = self.match(method, path)
        if matched is None:
            others = self.paths_with(path)
            reason = (
                f"{method.upper()} is not in the contract for this path (it has {', '.join(others)})"
                if others
                else "no operation in the contract has this path"
            )
            return RequestCheck(None, [Violation(f"{method.upper()} {path}", reason)])
        operation = matched.operation
        problems: list[Violation] = []
        pairs = parse_qsl(query, keep_blank_values=True)
        lowered = {k.lower(): v for k, v in headers.items()}
        for parameter in operation.get("parameters", []):
            where = parameter.get("in")
            name = str(parameter.get("name"))
            if where == "path":
                raw: list[str] = [matched.path_params[name]] if name in matched.path_params else []
            elif where == "query":
                raw = [v for k, v in pairs if k == name]
            elif where == "header":
                raw = [lowered[name.lower()]] if name.lower() in lowered else []
            else:
                continue
            problems += self._parameter(where, name, parameter, raw)
        parsed, form, body_problems = self._request_body(operation, lowered.get("content-type", ""), body)
        return RequestCheck(matched, problems + body_problems, parsed, form)

    def check_response(
        self, operation: MatchedOperation, status: int, headers: Mapping[str, str], body: bytes
    ) -> list[Violation]:
        responses = operation.operation.get("responses", {})
        key = next(
            (k for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default") if k in responses), None
        )
        if key is None:
            return [
                Violation("status", f"{status} is not documented for {operation.operation_id} ({', '.join(responses)})")
            ]
        content = responses[key].get("content") or {}
        if not body or not content:
            return []
        media = _media_type({k.lower(): v for k, v in headers.items()}.get("content-type", ""))
        declared = _declared(content, media)
        if declared is None:
            return [Violation("header.Content-Type", f"{media or '(none)'} is not one of {', '.join(content)}")]
        if not _is_json(media):
            return []
        try:
            answer = parse_json_body(body)
        except MalformedMessage as exc:
            return [Violation("$", f"the answer cannot be read as {media}: {exc}")]
        schema = content[declared].get("schema")
        return self._validator(schema).violations(answer) if isinstance(schema, Mapping) else []

    def _parameter(self, where: str, name: str, parameter: Mapping[str, Any], raw: list[str]) -> list[Violation]:
        place = f"{where}.{name}"
        if not raw:
            return [Violation(place, "is required")] if parameter.get("required") or where == "path" else []
        schema = parameter.get("schema")
        if not isinstance(schema, Mapping):
            return []
        value = _coerced(schema, raw, explode=parameter.get("explode", parameter.get("style", "form") == "form"))
        return [Violation(place, v.message) for v in self._validator(schema).violations(value)]

    def _request_body(
        self, operation: Mapping[str, Any], content_type: str, body: bytes
    ) -> tuple[Any, Any, list[Violation]]:
        declared_body = operation.get("requestBody")
        if not isinstance(declared_body, Mapping):
            return json_or_none(body), None, []
        content = declared_body.get("content") or {}
        if not body:
            return None, None, [Violation("body", "is required")] if declared_body.get("required") else []
        media = _media_type(content_type)
        declared = _declared(content, media)
        if declared is None:
            return (
                json_or_none(body),
                None,
                [Violation("header.Content-Type", f"{media or '(none)'} is not one of {', '.join(content)}")],
            )
        schema = content[declared].get("schema")
        if media == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
            if not isinstance(schema, Mapping):
                return None, form, []
            typed = {k: _coerced(schema.get("properties", {}).get(k, {}), [v], explode=True) for k, v in form.items()}
            return None, form, self._validator(schema).violations(typed)
        if not _is_json(media):
            return None, None, []
        try:
            parsed = parse_json_body(body)
        except MalformedMessage as exc:
            return None, None, [Violation("$", f"the body cannot be read as {media}: {exc}")]
        problems = self._validator(schema).violations(parsed) if isinstance(schema, Mapping) else []
        return parsed, None, problems

    def _validator(self, schema: Mapping[str, Any]) -> SchemaValidator:
        key = id(schema)
        if key not in self._validators:
            self._validators[key] = SchemaValidator(schema)
        return self._validators[key]


def _merged_parameters(shared: Iterable[Any], own: Iterable[Any]) -> list[Mapping[str, Any]]:
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for parameter in [*shared, *own]:  # an operation's own parameter overrides the path item's (OpenAPI 3.0)
        if isinstance(parameter, Mapping):
            found[(str(parameter.get("in")), str(parameter.get("name")))] = parameter
    return list(found.values())


def _path_pattern(template: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\{[^}/]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1]
            group = re.sub(r"\W", "_", name)
            out += f"(?P<{group}>[^/]+)"
        else:
            out += re.escape(piece)
    return re.compile(out)


def _coerced(schema: Mapping[str, Any], raw: list[str], *, explode: bool) -> Any:
    """A parameter's text as the type its schema declares (OpenAPI 3.0 `form`/`simple` styles); text that does not
    read as that type stays text, so the validator names it."""
    kind = schema.get("type")
    if kind == "array":
        items = raw if explode else [part for value in raw for part in value.split(",")]
        items_schema = schema.get("items")
        item_schema: Mapping[str, Any] = items_schema if isinstance(items_schema, Mapping) else {}
        return [_scalar(item_schema, item) for item in items]
    return _scalar(schema, raw[0])


def _scalar(schema: Mapping[str, Any], text: str) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _declared(content: Mapping[str, Any], media: str) -> str | None:
    """The declared media type that covers `media` (exact, `type/*`, `*/*`)."""
    for declared in content:
        bare = _media_type(declared)
        if bare == media or bare == "*/*" or (bare.endswith("/*") and media.startswith(bare[:-1])):
            return str(declared)
    return None


def json_or_none(body: bytes) -> Any:
    """The body as JSON (bounded like every body the kit reads), or None when it is empty or not JSON."""
    try:
        return parse_json_body(body) if body else None
    except MalformedMessage:
        return None
