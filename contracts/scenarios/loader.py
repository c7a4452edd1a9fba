"""Load scenario files: YAML, validated by the JSON Schema that ships with the package, then against the contracts.

Every problem is reported as `FILE: steps[2].request.operation: what is wrong`, and loading fails at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from pruefstand.contracts.errors import ContractError
from pruefstand.contracts.scenarios.model import Scenario, step_kind, step_request
from pruefstand.contracts.spec_loader import Spec

# libyaml's safe loader where PyYAML was built with it (about ten times faster), else the pure-Python one
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioError(ContractError):
    """A scenario file that cannot be used; the message names the file, the step and the key."""

    def __init__(self, path: Path | str, place: str, reason: str) -> None:
        self.path = str(path)
        self.place = place
        self.reason = reason
        super().__init__(f"{path}: {place}: {reason}")


@functools.cache
def _schema_validator() -> Draft202012Validator:
    text = (
        resources.files("pruefstand.contracts.scenarios").joinpath("scenario.schema.json").read_text(encoding="utf-8")
    )
    return Draft202012Validator(json.loads(text))


def _place(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_scenario(path: Path, specs: Mapping[str, Spec]) -> Scenario:
    """Read and check one scenario file against the scenario schema and the contracts of its APIs."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise ScenarioError(path, where, str(exc.problem or exc)) from exc
    except OSError as exc:
        raise ScenarioError(path, "file", f"cannot be read: {exc.strerror or exc}") from exc
    error = best_match(_schema_validator().iter_errors(data))
    if error is not None:
        raise ScenarioError(path, _place(error.absolute_path), error.message)
    scenario = Scenario(
        path=path,
        name=data["name"],
        apis=tuple(data["apis"]),
        steps=tuple(data["steps"]),
        actors=dict(data.get("actors", {})),
        variables=dict(data.get("variables", {})),
        description=data.get("description", ""),
        source=data.get("source", ""),
        tags=tuple(data.get("tags", ())),
    )
    _check_references(scenario, specs)
    return scenario


def _check_references(scenario: Scenario, specs: Mapping[str, Spec]) -> None:  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
    for api in scenario.apis:
        if api not in specs:
            raise ScenarioError(scenario.path, "apis", f"unknown API {api!r}; known: {', '.join(sorted(specs))}")
    for name, declared in scenario.actors.items():
        if declared["api"] not in scenario.apis:
            raise ScenarioError(scenario.path, f"actors.{name}.api", f"{declared['api']!r} is not listed in apis")
        grant = declared.get("auth", {}).get("password_grant")
        if grant:
            _operation(scenario, specs[declared["api"]], grant["operation"], f"actors.{name}.auth.password_grant")
    for index, step in enumerate(scenario.steps):
        kind = step_kind(step)
        where = f"steps[{index}].{kind}"
        if kind == "await_events":
            for number, event in enumerate(step["await_events"]["events"]):
                contract = event.get("contract")
                if contract is None:
                    continue
                place = f"{where}.events[{number}].contract"
                if contract["api"] not in scenario.apis:
                    raise ScenarioError(scenario.path, f"{place}.api", f"{contract['api']!r} is not listed in apis")
                _operation(scenario, specs[contract["api"]], contract["operation"], f"{place}.operation")
            continue
        if kind == "push_events":
            pushed = step["push_events"]
            if pushed["api"] not in scenario.apis:
                raise ScenarioError(scenario.path, f"{where}.api", f"{pushed['api']!r} is not listed in apis")
            for number, event in enumerate(pushed["events"]):
                _operation(scenario, specs[pushed["api"]], event["operation"], f"{where}.events[{number}].operation")
            continue
        request = step_request(step)
        actor = scenario.actors.get(request["actor"])
        if actor is None:
            raise ScenarioError(scenario.path, f"{where}.actor", f"unknown actor {request['actor']!r}")
        operation = _operation(scenario, specs[actor["api"]], request["operation"], f"{where}.operation")
        example = request.get("example")
        if example is not None:
            media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if example not in media.get("examples", {}):
                known = ", ".join(media.get("examples", {})) or "none"
                raise ScenarioError(
                    scenario.path, f"{where}.example", f"{request['operation']} has no example {example!r} ({known})"
                )


def _operation(scenario: Scenario, spec: Spec, operation_id: str, where: str) -> dict[str, Any]:
    try:
        return spec.operation(operation_id)
    except KeyError:
        raise ScenarioError(scenario.path, where, f"no operation {operation_id!r} in {spec.title}") from None
