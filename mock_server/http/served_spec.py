"""How a contract is handed to connexion: what the served copy (Swagger UI, /openapi.json) adds to the file, which
itself is never changed (a real implementation is checked against the file)."""

from __future__ import annotations

import copy
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _bare(media_types: list[str]) -> list[str]:
    return list(dict.fromkeys(m.split(";", 1)[0].strip() for m in media_types))


def without_media_type_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Swagger 2 document whose `consumes`/`produces` carry no parameters.

    connexion compares the request's bare media type (`application/json`) with the declared one, so a declared
    `application/json;charset=utf-8` (TMF622 v4) would refuse every body. The file itself is never changed.
    """
    if "swagger" not in document:
        return document
    result = copy.copy(document)
    for key in ("consumes", "produces"):
        if key in result:
            result[key] = _bare(result[key])
    paths = {}
    for path, item in document.get("paths", {}).items():
        new_item = dict(item)
        for method in _METHODS:
            if isinstance(item.get(method), dict):
                operation = dict(item[method])
                for key in ("consumes", "produces"):
                    if key in operation:
                        operation[key] = _bare(operation[key])
                new_item[method] = operation
        paths[path] = new_item
    result["paths"] = paths
    return result


def with_sandbox_header(document: dict[str, Any], header: str, description: str) -> dict[str, Any]:
    """A copy of an OpenAPI 3 document in which every operation documents the optional sandbox header, so Swagger UI
    shows a field for it (the contract file has no such header: a real implementation does not know it)."""
    parameter = {"name": header, "in": "header", "required": False, "description": description,
                 "schema": {"type": "string"}}  # fmt: skip
    result = copy.copy(document)
    paths = {}
    for path, item in document.get("paths", {}).items():
        new_item = dict(item)
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            declared = [*item.get("parameters", []), *operation.get("parameters", [])]
            if any(isinstance(p, dict) and str(p.get("name", "")).lower() == header.lower() for p in declared):
                new_item[method] = operation
                continue
            new_item[method] = {**operation, "parameters": [*operation.get("parameters", []), parameter]}
        paths[path] = new_item
    result["paths"] = paths
    return result
