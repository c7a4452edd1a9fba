"""What a scenario run emits; reporters consume these, the runner never prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pruefstand.contracts.scenarios.model import Scenario

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as it happened."""

    actor: str
    api: str
    operation: str
    method: str
    path: str
    request_body: Any
    status: int
    response_body: Any
    seconds: float
    incoming: bool = False  # sent by the system under test to the listener (an event, a callback)
    pushed: bool = False  # sent by pruefstand to the listener under test (a push_events step)


@dataclass(frozen=True)
class ScenarioStarted:
    scenario: Scenario


@dataclass(frozen=True)
class StepFinished:
    scenario: Scenario
    index: int
    name: str
    kind: str
    outcome: str
    problems: tuple[str, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ScenarioFinished:
    scenario: Scenario
    steps: tuple[StepFinished, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        """failed if a step failed; skipped if no step ran (all skipped: nothing was checked); else passed."""
        if any(step.outcome == FAILED for step in self.steps):
            return FAILED
        if self.steps and all(step.outcome == SKIPPED for step in self.steps):
            return SKIPPED
        return PASSED


ScenarioEvent = ScenarioStarted | StepFinished | ScenarioFinished
