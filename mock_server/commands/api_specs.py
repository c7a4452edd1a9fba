"""The contracts of every registered API by name, as the commands (lint, replay, proxy, example) and the pytest plugin
use them: the admin API as served (with the flows' fragments), each flow's APIs, and what flows send out."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pruefstand.contracts import Spec, load_spec
from pruefstand.contracts.request_examples import request_examples_of
from pruefstand.mock_server.admin.document import admin_spec
from pruefstand.mock_server.kernel import registry


def api_names() -> list[str]:
    return [api.name for api in registry.apis()]


def spec_file(name: str) -> Path:
    """The contract file of an API (the admin API's own file, without the flows' fragments)."""
    return registry.spec_path(registry.api(name))


def spec_of(name: str) -> Spec:
    """An API's contract as the mock serves it."""
    found = registry.api(name)
    if found.name == registry.ADMIN_API.name:
        return admin_spec()
    return load_spec(registry.spec_path(found), resolve=found.resolve)


def all_specs() -> dict[str, Spec]:
    """Every API's contract by name (scenarios name their APIs this way)."""
    return {name: spec_of(name) for name in api_names()}


def request_examples(api: str, operation_id: str) -> dict[str, Any]:
    """Every named request example of an operation of a registered API. KeyError names what is unknown."""
    if api not in api_names():
        raise KeyError(f"no API {api!r}; known: {', '.join(api_names())}")
    return request_examples_of(spec_of(api), operation_id)


def request_example(api: str, operation_id: str, name: str) -> Any:
    """A fresh copy of one named request example (change it freely). KeyError names what it has instead."""
    examples = request_examples(api, operation_id)
    if name not in examples:
        raise KeyError(f"{operation_id} has no example {name!r}; it has: {', '.join(examples) or 'none'}")
    return copy.deepcopy(examples[name])
