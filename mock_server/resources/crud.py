"""Partner contracts served statefully (`serve --spec FILE`, `spec_mode = "stateful"`, the default): where a contract
shows a resource — a collection path with POST and an item path `…/{param}` with GET, PUT, PATCH or DELETE — what is
posted is kept per sandbox and the other operations work on it, as Mockoon's CRUD routes and Microcks' stateful mocks
do. Everything else in the contract answers from its examples, as before.

- POST stores the (already validated) body with a new id under the id field (the item schema's property named like
  the path parameter, else `id`; an integer counter when that property is an integer, a UUID for `format: uuid`, a
  counter as text otherwise), answers the stored resource with 201 (or the contract's first 2xx) and `Location`.
- GET item answers it (404 when there is none); GET collection lists them, filtered by query parameters that name a
  property, paged by `limit`/`offset` when the contract has them, wrapped in the collection schema's array property
  when it is an object.
- PUT replaces (the id stays), PATCH merges (RFC 7386), DELETE removes (204 or the contract's first 2xx; then 404).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import json_merge_patch
import jsonpointer

from pruefstand.mock_server.kernel.errors import NotFound
from pruefstand.mock_server.store import FlowStore

_METHODS = ("get", "put", "post", "delete", "patch")
_PARAM = re.compile(r"^\{([^}/]+)\}$")


@dataclass(frozen=True)
class Resource:
    """A collection path and its item path, as a contract shows them."""

    base_path: str  # where the contract is served
    collection: str  # e.g. /pets
    item: str  # e.g. /pets/{petId}
    id_param: str  # petId
    id_field: str  # the stored resource's id property
    id_kind: str  # integer | uuid | text
    list_property: str | None  # the collection answer's array property, when it is an object

    @property
    def kind(self) -> str:
        return f"partner:{self.base_path}{self.collection}"


def _resolved(document: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """A local `$ref` followed (contracts served as written keep them), a few levels deep."""
    while (
        isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and depth < 8
    ):
        try:
            node = jsonpointer.resolve_pointer(document, node["$ref"][1:])
        except jsonpointer.JsonPointerException:
            return {}
        depth += 1
    return node


def _schema(document: Mapping[str, Any], operation: Mapping[str, Any], *statuses: str) -> Mapping[str, Any]:
    responses = _resolved(document, operation.get("responses")) or {}
    for status in (*statuses, *sorted(str(code) for code in responses if str(code).startswith("2"))):
        response = _resolved(document, responses.get(status) or responses.get(int(status)))
        if not isinstance(response, Mapping):
            continue
        if "schema" in response:  # Swagger 2
            return dict(_resolved(document, response["schema"]) or {})
        for media in (response.get("content") or {}).values():
            return dict(_resolved(document, media.get("schema")) or {})
    return {}


def _properties(document: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    schema = _resolved(document, schema)
    if not isinstance(schema, Mapping):
        return {}
    found = {name: _resolved(document, sub) for name, sub in (schema.get("properties") or {}).items()}
    for part in schema.get("allOf") or []:
        found.update(_properties(document, part))
    return found


def find_resources(document: Mapping[str, Any], base_path: str) -> list[Resource]:
    """Every collection/item pair of a contract (OpenAPI 2 or 3)."""
    paths: Mapping[str, Any] = document.get("paths") or {}
    found: list[Resource] = []
    for collection, item_ops in paths.items():
        if not isinstance(item_ops, Mapping) or "post" not in item_ops or _PARAM.match(collection.rsplit("/", 1)[-1]):
            continue
        for item, ops in paths.items():
            head, _, last = item.rpartition("/")
            matched = _PARAM.match(last)
            if head != collection.rstrip("/") or matched is None or not isinstance(ops, Mapping) or "get" not in ops:
                continue
            param = matched.group(1)
            properties = _properties(document, _schema(document, ops["get"], "200"))
            field = param if param in properties else "id"
            prop = properties.get(field) or {}
            kind = "integer" if prop.get("type") == "integer" else "uuid" if prop.get("format") == "uuid" else "text"
            listing = _schema(document, item_ops["get"], "200") if "get" in item_ops else {}
            arrays = [n for n, sub in _properties(document, listing).items() if (sub or {}).get("type") == "array"]
            list_property = arrays[0] if listing.get("type") != "array" and len(arrays) == 1 else None
            found.append(Resource(base_path, collection, item, param, field, kind, list_property))
    return found


def success_status(operation: Mapping[str, Any], preferred: int) -> int:
    """The status to answer with: the preferred one when the contract documents it, else its first 2xx."""
    codes = sorted(int(code) for code in (operation.get("responses") or {}) if str(code).isdigit())
    if preferred in codes:
        return preferred
    return next((code for code in codes if 200 <= code < 300), preferred)


class Resources:
    """The stored resources of partner contracts, per sandbox, through the store's sandbox door."""

    def __init__(self, store: FlowStore) -> None:
        self._store = store

    def create(self, sandbox: str, resource: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._store.unit_of_work(sandbox) as uow:
            number = uow.next_counter(resource.kind)
            new_id: Any = number if resource.id_kind == "integer" else str(number)
            if resource.id_kind == "uuid":
                new_id = str(uuid.uuid4())
            stored = {**body, resource.id_field: new_id}
            uow.insert(resource.kind, str(new_id), stored)
        return stored

    def get(self, sandbox: str, resource: Resource, item_id: str) -> dict[str, Any]:
        found = self._store.view(sandbox).get(resource.kind, item_id)
        if found is None:
            raise NotFound(f"no {resource.collection.strip('/')} with {resource.id_param} {item_id!r}")
        return dict(found)

    def listed(self, sandbox: str, resource: Resource, query: Mapping[str, str]) -> list[dict[str, Any]]:
        found = [dict(item) for item in self._store.view(sandbox).find(resource.kind)]
        filters = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        if filters:
            found = [item for item in found if all(k in item and _text(item[k]) == v for k, v in filters.items())]
        offset = _number(query.get("offset"), 0)
        limit = _number(query.get("limit"), len(found))
        return found[offset : offset + limit]

    def replace(self, sandbox: str, resource: Resource, item_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        current = self.get(sandbox, resource, item_id)
        stored = {**body, resource.id_field: current[resource.id_field]}
        with self._store.unit_of_work(sandbox) as uow:
            uow.put(resource.kind, item_id, stored)
        return stored

    def merge(self, sandbox: str, resource: Resource, item_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        current = self.get(sandbox, resource, item_id)
        merged = dict(json_merge_patch.merge(current, dict(patch)))
        merged[resource.id_field] = current[resource.id_field]  # the id is the store's
        with self._store.unit_of_work(sandbox) as uow:
            uow.put(resource.kind, item_id, merged)
        return merged

    def delete(self, sandbox: str, resource: Resource, item_id: str) -> None:
        self.get(sandbox, resource, item_id)
        with self._store.unit_of_work(sandbox) as uow:
            uow.delete(resource.kind, item_id)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str | None, default: int) -> int:
    try:
        return max(0, int(text)) if text is not None else default
    except ValueError:
        return default
