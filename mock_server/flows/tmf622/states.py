"""The order and task state machines of a profile, loaded from data (specs/tmf622/fit-profile.yaml).

Pure: a transition returns the changed resource; the rules (rules.py) say which event it emits; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pruefstand.mock_server.kernel.errors import Conflict


class InvalidTransition(Conflict):
    """A transition the profile does not allow; the message names the current state and the allowed next ones."""

    def __init__(self, kind: str, current: str, target: str, allowed: Sequence[str]) -> None:
        self.current, self.target, self.allowed = current, target, tuple(allowed)
        nexts = ", ".join(allowed) if allowed else "none, it is final"
        super().__init__(f"{kind} in state {current!r} cannot move to {target!r}; allowed next states: {nexts}")


@dataclass(frozen=True)
class StateMachine:
    kind: str
    initial: str
    transitions: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_profile(cls, kind: str, data: Mapping[str, Any]) -> StateMachine:
        transitions = {str(state): tuple(map(str, nexts or ())) for state, nexts in data["transitions"].items()}
        unknown = {n for nexts in transitions.values() for n in nexts} - set(transitions)
        if data["initial"] not in transitions or unknown:
            raise ValueError(f"{kind} state machine: unknown states {sorted(unknown) or [data['initial']]}")
        return cls(kind=kind, initial=str(data["initial"]), transitions=transitions)

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    def allowed(self, current: str) -> tuple[str, ...]:
        return self.transitions.get(current, ())

    def is_final(self, state: str) -> bool:
        return not self.allowed(state)

    def check(self, current: str, target: str) -> None:
        if target not in self.allowed(current):
            raise InvalidTransition(self.kind, current, target, self.allowed(current))


@dataclass(frozen=True)
class Reason:
    code: str
    description: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "description": self.description}


def transition(
    machine: StateMachine, resource: Mapping[str, Any], target: str, reason: Reason | None, at: str
) -> dict[str, Any]:
    """Move `resource` to `target`: new state, `stateChangeDate`, `stateChangeReason`, and a `stateChangeHistory`
    entry for the state it leaves. Returns the changed copy; `resource` is left as it was."""
    current = str(resource["state"])
    machine.check(current, target)
    changed = dict(resource)
    history = list(resource.get("stateChangeHistory", []))
    left: dict[str, Any] = {"@type": "StateChange", "state": current, "changeDate": resource.get("stateChangeDate", at)}
    if "stateChangeReason" in resource:
        left["changeReason"] = resource["stateChangeReason"]
    history.append(left)
    changed.update(state=target, stateChangeDate=at, stateChangeHistory=history)
    if reason is not None:
        changed["stateChangeReason"] = reason.as_json()
    else:
        changed.pop("stateChangeReason", None)
    return changed
