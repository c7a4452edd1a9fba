"""Answers for operations that have no stateful handler: the documented example, else one built from the schema.

Used for contracts served with `--spec` (connexion's mock resolver recurses forever on recursive schemas such as
TMF622's, so the schema walk here is bounded). A client may pick the answer like with Prism:
`Prefer: code=404` and/or `Prefer: example=<name>`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from connexion.context import request
from connexion.resolver import Resolution, Resolver

from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name
from pruefstand.mock_server.resources.crud import Resource, Resources, success_status

_MAX_DEPTH = 8
_FORMAT_EXAMPLES = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com/",
    "email": "user@example.com",
}


def example_from_schema(schema: Any, depth: int = 0) -> Any:  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
    """A value that fits `schema` (already $ref-resolved, possibly cyclic); recursion stops after a few levels."""
    if not isinstance(schema, Mapping):
        return None
    if "example" in schema:
        return schema["example"]
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if depth > _MAX_DEPTH:
        return None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_from_schema(part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return example_from_schema(schema[key][0], depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        return {
            name: example_from_schema(sub, depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if name in required or depth < 3
        }
    if kind == "array":
        return [example_from_schema(schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    if kind == "string":
        return _FORMAT_EXAMPLES.get(str(schema.get("format")), "string")
    return None


def _preferences() -> dict[str, str]:
    header = request.headers.get("Prefer", "")
    pairs = (part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    return {key.strip().lower(): value.strip().strip('"') for key, value in pairs}


def _status(responses: Mapping[str, Any], wanted: str | None) -> str:
    if wanted and wanted in responses:
        return wanted
    codes = sorted(code for code in responses if str(code).isdigit())
    success = [code for code in codes if str(code).startswith("2")]
    return str((success or codes or ["default"])[0])


def _answer(operation: Any, *_args: Any, **_kwargs: Any) -> tuple[Any, int, dict[str, str]]:
    prefs = _preferences()
    responses: Mapping[str, Any] = operation.responses
    status = _status(responses, prefs.get("code"))
    code = int(status) if status.isdigit() else 200
    response = responses.get(status, {})
    if code == 204 or not response:
        return "", code, {}
    if "content" in response:  # OpenAPI 3
        content: Mapping[str, Any] = response.get("content") or {}
        if not content:
            return "", code, {}
        media_type = next(iter(content))
        media = content[media_type]
        named = media.get("examples") or {}
        if named:
            chosen = named.get(prefs.get("example", ""), next(iter(named.values())))
            return chosen.get("value"), code, {"Content-Type": media_type}
        if "example" in media:
            return media["example"], code, {"Content-Type": media_type}
        return example_from_schema(media.get("schema", {})), code, {"Content-Type": media_type}
    media_type = (operation.produces or ["application/json"])[0]  # Swagger 2
    examples = response.get("examples") or {}
    if examples:
        return examples.get(media_type, next(iter(examples.values()))), code, {"Content-Type": media_type}
    if "schema" not in response:
        return "", code, {}
    return example_from_schema(response["schema"]), code, {"Content-Type": media_type}


class ExampleResolver(Resolver):  # type: ignore[misc]
    """Resolves every operation to an example answer, or, for the resources a contract shows (resources/crud.py),
    to the stateful operation on what was stored."""

    def __init__(self, resources: Sequence[Resource] = (), service: Resources | None = None) -> None:
        super().__init__()
        self._counter = itertools.count(1)
        self._routes: dict[tuple[str, str], tuple[Resource, str]] = {}
        for resource in resources if service is not None else ():
            self._routes[("post", resource.collection)] = (resource, "create")
            self._routes[("get", resource.collection)] = (resource, "list")
            for method in ("get", "put", "patch", "delete"):
                self._routes[(method, resource.item)] = (resource, method)
        self._service = service

    def resolve(self, operation: Any) -> Resolution:
        operation_id = self.resolve_operation_id(operation) or f"example-{next(self._counter)}"
        route = self._routes.get((str(operation.method).lower(), str(operation.path)))
        if route is not None and self._service is not None:
            return Resolution(_stateful(self._service, operation, *route), operation_id)

        def answer(*args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
            return _answer(operation, *args, **kwargs)

        return Resolution(answer, operation_id)


def _stateful(service: Resources, operation: Any, resource: Resource, action: str) -> Any:
    """The handler of one resource operation: the sandbox from the header, the id from the path, the body parsed."""

    async def handle(*_args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
        spec: Mapping[str, Any] = {"responses": operation.responses}  # known once connexion built the operation
        sandbox = sandbox_name(request.headers.get(SANDBOX_HEADER))
        json_headers = {"Content-Type": "application/json"}
        item_id = str(kwargs.get(resource.id_param, ""))
        body = _body(kwargs)
        if action == "create":
            stored = service.create(sandbox, resource, body)
            location = f"{resource.base_path}{resource.collection}/{stored[resource.id_field]}"
            return stored, success_status(spec, 201), {**json_headers, "Location": location}
        if action == "list":
            query = {key: str(value) for key, value in request.query_params.items()}
            found: Any = service.listed(sandbox, resource, query)
            if resource.list_property:
                found = {resource.list_property: found}
            return found, success_status(spec, 200), json_headers
        if action == "get":
            return service.get(sandbox, resource, item_id), success_status(spec, 200), json_headers
        if action == "put":
            return service.replace(sandbox, resource, item_id, body), success_status(spec, 200), json_headers
        if action == "patch":
            return service.merge(sandbox, resource, item_id, body), success_status(spec, 200), json_headers
        service.delete(sandbox, resource, item_id)
        return None, success_status(spec, 204), {}

    return handle


def _body(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request body connexion parsed: `body` (OpenAPI 3) or the Swagger 2 body parameter, whatever its name."""
    if isinstance(kwargs.get("body"), dict):
        return dict(kwargs["body"])
    return next((dict(value) for value in kwargs.values() if isinstance(value, dict)), {})
