"""Scenario replay: documented message sequences as YAML files, run step by step against the mock or a real system."""

from pruefstand.contracts.scenarios.events import (
    FAILED,
    PASSED,
    SKIPPED,
    Exchange,
    ScenarioEvent,
    ScenarioFinished,
    ScenarioStarted,
    StepFinished,
)
from pruefstand.contracts.scenarios.loader import ScenarioError, load_scenario
from pruefstand.contracts.scenarios.model import Scenario
from pruefstand.contracts.scenarios.runner import ScenarioRunner, ScenarioTarget

__all__ = [
    "FAILED",
    "PASSED",
    "SKIPPED",
    "Exchange",
    "Scenario",
    "ScenarioError",
    "ScenarioEvent",
    "ScenarioFinished",
    "ScenarioRunner",
    "ScenarioStarted",
    "ScenarioTarget",
    "StepFinished",
    "load_scenario",
]
