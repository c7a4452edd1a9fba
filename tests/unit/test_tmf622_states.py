"""The FIT-API order and task state machines: loaded from the profile data, properties checked with hypothesis."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pruefstand.contracts import specs_root
from pruefstand.mock_server.flows.tmf622.states import InvalidTransition, Reason, StateMachine, transition

PROFILE = yaml.safe_load((specs_root() / "tmf622" / "fit-profile.yaml").read_text(encoding="utf-8"))
ORDER = StateMachine.from_profile("order", PROFILE["order"])
TASK = StateMachine.from_profile("task", PROFILE["task"])
SEED_PATH = ["accepted", "inProgress", "completed", "closed"]


def fresh() -> dict[str, Any]:
    return {"id": "1", "state": ORDER.initial, "stateChangeDate": "2022-05-11T10:30:00+02:00"}


def test_the_seed_termination_path_is_allowed_and_leaves_a_growing_history() -> None:
    order = fresh()
    for number, state in enumerate(SEED_PATH):
        code = "0010" if state in ("completed", "closed") else "0000"
        before = order
        order = transition(ORDER, order, state, Reason(code, PROFILE["reasons"][code]), f"2022-05-1{number}T10:31:00Z")
        assert (order["state"], order["stateChangeDate"]) == (state, f"2022-05-1{number}T10:31:00Z")
        assert before["state"] != state  # the resource handed in is left as it was
    assert order["state"] == "closed"
    assert order["stateChangeReason"] == {"code": "0010", "description": "Auftrag ausgeführt."}
    assert [h["state"] for h in order["stateChangeHistory"]] == ["acknowledged", *SEED_PATH[:-1]]
    assert order["stateChangeHistory"][2]["changeReason"] == {
        "code": "0000",
        "description": "Keine Änderung zum Auftrag",
    }
    assert ORDER.is_final("closed")


def test_a_transition_that_is_not_allowed_names_current_and_allowed_states() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(ORDER, fresh(), "completed", None, "2022-05-11T10:31:00Z")
    assert str(caught.value) == (
        "order in state 'acknowledged' cannot move to 'completed'; "
        "allowed next states: accepted, inProgress, rejected, cancelled, failed"
    )
    with pytest.raises(InvalidTransition, match="allowed next states: none, it is final"):
        ORDER.check("closed", "inProgress")


def test_the_profile_can_change_the_machine() -> None:
    strict = StateMachine.from_profile(
        "order", {"initial": "acknowledged", "transitions": {"acknowledged": ["done"], "done": []}}
    )
    assert strict.allowed("acknowledged") == ("done",)
    with pytest.raises(ValueError, match="unknown states"):
        StateMachine.from_profile("order", {"initial": "a", "transitions": {"a": ["b"]}})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ORDER.states), max_size=25), st.sampled_from(["order", "task"]))
def test_random_walks_take_only_documented_transitions(targets: list[str], kind: str) -> None:
    machine = ORDER if kind == "order" else TASK
    resource: dict[str, Any] = {"state": machine.initial}
    taken = 0
    for step, target in enumerate(targets):
        target = target if target in machine.transitions else machine.initial
        before = resource
        try:
            resource = transition(machine, resource, target, None, f"2026-01-01T00:00:{step % 60:02d}Z")
        except InvalidTransition:
            assert target not in machine.allowed(before["state"])
            assert resource is before
            continue
        assert target in machine.allowed(before["state"])
        assert len(resource["stateChangeHistory"]) == len(before.get("stateChangeHistory", [])) + 1
        assert resource["stateChangeHistory"][:-1] == before.get("stateChangeHistory", [])
        taken += 1
    assert taken == len(resource.get("stateChangeHistory", []))
