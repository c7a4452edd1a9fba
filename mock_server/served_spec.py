"""How a partner's contract is handed to connexion when it is served from its examples."""

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
