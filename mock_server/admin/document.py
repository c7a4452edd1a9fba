"""The admin API's contract as served: the kit's own (sandboxes, clock, journal, faults, deliveries) joined by each
registered flow's fragment (its `admin_spec`). Built from the resolved documents, once per start."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from pruefstand.contracts import Spec, load_spec
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.flow_info import FlowInfo


class AdminSpecError(MockError):
    """A flow's admin fragment claims a path or operationId the admin API has already."""


def admin_spec(flows: Sequence[FlowInfo] | None = None) -> Spec:
    core = load_spec(registry.spec_path(registry.ADMIN_API))
    document = copy.deepcopy(core.document)
    operation_ids = _operation_ids(document)
    for info, path in registry.admin_fragments(flows):
        fragment = load_spec(path).document
        for name, item in fragment.get("paths", {}).items():
            if name in document["paths"]:
                raise AdminSpecError(f"flow {info.name!r}: admin path {name} is taken already")
            document["paths"][name] = copy.deepcopy(item)
        for operation_id in _operation_ids(fragment):
            if operation_id in operation_ids:
                raise AdminSpecError(f"flow {info.name!r}: admin operationId {operation_id!r} is taken already")
            operation_ids.add(operation_id)
        for kind, entries in fragment.get("components", {}).items():
            document.setdefault("components", {}).setdefault(kind, {}).update(copy.deepcopy(entries))
    return Spec(path=core.path, document=document)


def _operation_ids(document: dict[str, object]) -> set[str]:
    found: set[str] = set()
    paths = document.get("paths", {})
    assert isinstance(paths, dict)
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                found.add(str(operation["operationId"]))
    return found
