"""Which scenarios a replay runs: by name (a glob over the name or the file's stem), by tag, and by the operations
their request steps call (the same operation selectors as `fuzz`: a partner that implements only some operations
leaves out the scenarios that need the others). Mock-control steps are not counted: they are the mock's, skipped
against a real system anyway."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

from pruefstand.contracts.operation_selection import OperationRef, OperationSelection
from pruefstand.contracts.scenarios.model import Scenario, step_kind, step_request
from pruefstand.contracts.spec_loader import Spec


@dataclass(frozen=True, slots=True)
class ScenarioSelection:
    names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    operations: OperationSelection = field(default_factory=OperationSelection)

    def left_out(self, scenario: Scenario, specs: Mapping[str, Spec]) -> str | None:
        """Why the scenario does not run, or None when it does."""

        def named(patterns: tuple[str, ...]) -> bool:
            return any(
                fnmatch.fnmatchcase(scenario.name, p) or fnmatch.fnmatchcase(scenario.path.stem, p) for p in patterns
            )

        if self.names and not named(self.names):
            return "its name matches no --scenario"
        if named(self.exclude_names):
            return "its name matches --exclude-scenario"
        if self.tags and not set(self.tags) & set(scenario.tags):
            return "it has none of the tags of --scenario-tag"
        if set(self.exclude_tags) & set(scenario.tags):
            return "it has a tag of --exclude-scenario-tag"
        for ref in operations_called(scenario, specs):
            if not self.operations.selects(ref):
                return f"it calls {ref.operation_id} ({ref.label}), which the operation selection leaves out"
        return None


def operations_called(scenario: Scenario, specs: Mapping[str, Spec]) -> list[OperationRef]:
    refs = []
    for step in scenario.steps:
        if step_kind(step) != "request":
            continue
        request = step_request(step)
        api = str(scenario.actors.get(str(request.get("actor")), {}).get("api"))
        if api not in specs:
            continue
        operation = specs[api].operation(str(request["operation"]))
        refs.append(
            OperationRef(
                operation_id=str(request["operation"]),
                path=str(operation["path"]),
                method=str(operation["method"]),
                tags=tuple(str(t) for t in operation.get("tags") or ()),
            )
        )
    return refs
