"""A TMF622 profile as one value, loaded from data: `tmf622` (plain TM Forum v4, specs/tmf622/tmf622-profile.yaml)
and `fit` (the FIT-API overlay, specs/tmf622/fit-profile.yaml): the order and task state machines, the cancellation
rules, the reason codes, the buyer's contract (buyer required, preconditions, delete, fieldPath format) and the steps
the seller takes after an order was created.

Pure: plans are plain JSON documents (stored by the service); nothing here touches the store or HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pruefstand.contracts import specs_root
from pruefstand.mock_server.flows.tmf622.records import PlanRecord
from pruefstand.mock_server.flows.tmf622.states import StateMachine

PROFILE_HEADER = "X-Pruefstand-Profile"  # the profile one request works in: tmf622 (plain v4) or fit
DEFAULT_PROFILE = specs_root() / "tmf622" / "fit-profile.yaml"
PLAIN_PROFILE = specs_root() / "tmf622" / "tmf622-profile.yaml"
PROFILE_NAMES = ("tmf622", "fit")
ATTRIBUTE_STEPS = ("supplierContact", "terminationDate")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the seller does: move the order to `state` (with a reason code), or add `attributes` (the supplier
    contact with the binding completion date, or the product's termination date). `when: delete` limits a step to
    orders with a delete item. `changed_before`: the state change is dated this many seconds before its event goes
    out (the seed's accepted step: stateChangeDate 10:31, eventTime 10:32)."""

    state: str | None = None
    reason: str | None = None
    attributes: str | None = None
    when: str | None = None
    changed_before: float = 0.0

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Step:
        step = cls(
            state=data.get("state"),
            reason=None if data.get("reason") is None else str(data["reason"]),
            attributes=data.get("attributes"),
            when=data.get("when"),
            changed_before=float(data.get("changed_before") or 0),
        )
        if step.changed_before < 0 or (step.changed_before and step.state is None):
            raise ValueError(
                f"progress step {dict(data)!r}: changed_before is a number of seconds >= 0, on a state step"
            )
        if (step.state is None) == (step.attributes is None) or (
            step.attributes is not None and step.attributes not in ATTRIBUTE_STEPS
        ):
            raise ValueError(f"progress step {dict(data)!r}: give either a state or attributes in {ATTRIBUTE_STEPS}")
        return step

    def as_json(self) -> dict[str, Any]:
        fields = (("state", self.state), ("reason", self.reason), ("attributes", self.attributes), ("when", self.when))
        data: dict[str, Any] = {k: v for k, v in fields if v}
        if self.changed_before:
            data["changed_before"] = self.changed_before
        return data

    def applies_to(self, order: Mapping[str, Any]) -> bool:
        return self.when is None or any(i.get("action") == self.when for i in order.get("productOrderItem", []))

    @property
    def name(self) -> str:
        return self.state or str(self.attributes)


@dataclass(frozen=True, slots=True)
class CancellationRules:
    """How a cancellation runs: the order's path to cancelled, the code a refused one ends with, and the milestone
    after which it is refused."""

    path: tuple[str, ...] = ("assessingCancellation", "pendingCancellation", "cancelled")
    refusal_code: str | None = "1087"
    point_of_no_return: str = "pointOfNoReturn"

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CancellationRules:
        default = cls()
        return cls(
            path=tuple(map(str, data.get("path", default.path))),
            refusal_code=None if data.get("refusal_code", "") is None else str(data.get("refusal_code", "1087")),
            point_of_no_return=str(data.get("point_of_no_return", default.point_of_no_return)),
        )


@dataclass(frozen=True)
class Profile:
    orders: StateMachine
    tasks: StateMachine
    not_cancellable: frozenset[str]
    reasons: Mapping[str, str]
    steps: tuple[Step, ...]
    supplier_contact: Mapping[str, Any]
    cancellation: CancellationRules = CancellationRules()
    abort_states: tuple[str, ...] = ("cancelled", "failed")  # an open order aborted by a termination, first allowed
    completed_state: str = "completed"  # the state that gets completionDate and changes the inventory
    waiting_state: str = "pending"  # where an order waits for the buyer's information
    resume_state: str = "inProgress"  # where it goes on once the buyer answered
    resume_reason: str | None = "0000"
    initial_reason: str | None = None  # the reason a new order's first state carries (FIT: 0000)
    name: str = "fit"
    buyer_required: bool = True  # an order must name its Auftraggeber (FIT) or may name nobody (plain v4)
    preconditions: bool = True  # framework agreement, inventory, no second open order (FIT)
    deletable: bool = False  # DELETE productOrder/{id} (plain v4: 204; FIT keeps every order)
    field_path: str = "array"  # AttributeValueChangeEvent.fieldPath: FIT [{path, typeOfChange}], v4 a string

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Profile:
        progress = data.get("progress") or {}
        profile = cls(
            orders=StateMachine.from_profile("order", data["order"]),
            tasks=StateMachine.from_profile("task", data["task"]),
            not_cancellable=frozenset(data["order"].get("not_cancellable", ())),
            reasons={str(code): str(text) for code, text in (data.get("reasons") or {}).items()},
            steps=tuple(Step.from_data(s) for s in progress.get("steps", ())),
            supplier_contact=dict(progress.get("supplierContact") or {}),
            cancellation=CancellationRules.from_data(data.get("cancellation") or {}),
            abort_states=tuple(map(str, data["order"].get("abort_states", ("cancelled", "failed")))),
            completed_state=str(data["order"].get("completed", "completed")),
            waiting_state=str(data["order"].get("waiting", "pending")),
            resume_state=str(data["order"].get("resume", "inProgress")),
            resume_reason=None
            if data["order"].get("resume_reason", "0000") is None
            else str(data["order"].get("resume_reason", "0000")),
            initial_reason=None
            if data["order"].get("initial_reason") is None
            else str(data["order"]["initial_reason"]),
            name=str(data.get("name", "fit")),
            buyer_required=data.get("buyer", "required") == "required",
            preconditions=bool(data.get("preconditions", True)),
            deletable=data.get("delete", "forbidden") == "allowed",
            field_path=str(data.get("field_path", "array")),
        )
        if profile.field_path not in ("array", "string"):
            raise ValueError(f"field_path must be array or string, got {profile.field_path!r}")
        named = [*profile.cancellation.path, *profile.abort_states, profile.completed_state, profile.waiting_state]
        unknown = [s.state for s in profile.steps if s.state and s.state not in profile.orders.transitions] + [
            s for s in [*named, profile.resume_state] if s not in profile.orders.transitions
        ]
        if unknown:
            raise ValueError(f"progress steps name unknown order states: {unknown}")
        return profile

    @classmethod
    def load(cls, path: Path = DEFAULT_PROFILE) -> Profile:
        return cls.from_data(yaml.safe_load(path.read_text(encoding="utf-8")))

    def reason(self, code: str | None) -> tuple[str, str] | None:
        return None if code is None else (code, self.reasons.get(code, ""))

    def initial_state_reason(self) -> dict[str, str] | None:
        """`stateChangeReason` of a new order (FIT: 0000 "Keine Änderung zum Auftrag"), or None."""
        found = self.reason(self.initial_reason)
        return None if found is None else {"code": found[0], "description": found[1]}


def new_plan(
    order: Mapping[str, Any],
    steps: Sequence[Step],
    *,
    mode: str,
    delay: float | Sequence[float],
    start: float,
    expected_completion: str | None = None,
    termination_date: str | None = None,
) -> PlanRecord:
    """The seller's plan for a new order: the profile's steps that apply to it, the first one due `delay` seconds
    after `start` (sandbox clock); `delay` may be one per step (the last one repeats), so a documented timeline can be
    replayed. `mode` auto runs on the clock, manual one step per admin call."""
    delays = [float(delay)] if isinstance(delay, int | float) else [float(d) for d in delay] or [0.0]
    return {
        "orderId": str(order["id"]),
        "mode": mode,
        "delays": delays,
        "nextDue": start + delays[0],
        "steps": [s.as_json() for s in steps if s.applies_to(order)],
        "expectedCompletionDate": expected_completion,
        "terminationDate": termination_date,
    }


def next_step(plan: PlanRecord) -> Step | None:
    steps = plan.get("steps") or []
    return Step.from_data(steps[0]) if steps else None


def after_step(plan: PlanRecord, ran_at: float) -> PlanRecord:
    """The plan with its first step done; the next one is due its delay after this one ran."""
    delays = list(plan.get("delays") or [plan.get("delay", 0.0)])
    rest = delays[1:] or delays[-1:]
    after = plan.copy()
    after["steps"], after["delays"], after["nextDue"] = list(plan["steps"][1:]), rest, ran_at + float(rest[0])
    return after


def load_profiles(fit: Path = DEFAULT_PROFILE, plain: Path = PLAIN_PROFILE) -> dict[str, Profile]:
    """Both profiles by name; `fit` may come from another file (setting tmf622_profile)."""
    profiles = {"tmf622": Profile.load(plain), "fit": Profile.load(fit)}
    for name, profile in profiles.items():
        if profile.name != name:
            raise ValueError(f"the {name} profile file names itself {profile.name!r}")
    return profiles
