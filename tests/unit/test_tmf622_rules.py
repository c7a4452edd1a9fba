"""The order rules as pure functions of the profile: each returns the changed documents and the typed events, and
changes nothing it was handed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pruefstand.mock_server.flows.tmf622 import rules
from pruefstand.mock_server.flows.tmf622.events import (
    CancelProductOrderCreateEvent,
    CancelProductOrderStateChangeEvent,
    ProductOrderStateChangeEvent,
)
from pruefstand.mock_server.flows.tmf622.profile import PLAIN_PROFILE, Profile
from pruefstand.mock_server.flows.tmf622.states import Reason
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict

PROFILE = Profile.load()
NOW = "2022-05-11T10:31:00+02:00"


def order(state: str, **extra: Any) -> dict[str, Any]:
    return {"id": "o1", "href": "/po/o1", "state": state, "stateChangeDate": "2022-05-11T10:30:00+02:00", **extra}


def test_a_cancellation_walks_the_profiles_path_and_emits_task_and_order_events_in_order() -> None:
    given = order("accepted", relatedParty=[{"id": "500011"}])
    kept = copy.deepcopy(given)
    outcome = rules.cancellation(PROFILE, given, "t1", "Kunde storniert", NOW)
    assert given == kept
    assert outcome.order is not None
    assert (outcome.order["state"], outcome.order["cancellationDate"]) == ("cancelled", NOW)
    assert outcome.order["cancellationReason"] == "Kunde storniert"
    assert [(type(e), e.resource["state"]) for e in outcome.events] == [
        (CancelProductOrderCreateEvent, "acknowledged"),
        (CancelProductOrderStateChangeEvent, "inProgress"),
        (ProductOrderStateChangeEvent, "assessingCancellation"),
        (ProductOrderStateChangeEvent, "pendingCancellation"),
        (ProductOrderStateChangeEvent, "cancelled"),
        (CancelProductOrderStateChangeEvent, "done"),
    ]
    assert outcome.events[0].subject["relatedParty"] == [{"id": "500011"}]  # a task event matches on its order


@pytest.mark.parametrize(
    "refused",
    [order("acknowledged"), order("inProgress", productOrderMilestone=[{"name": "pointOfNoReturn"}])],
    ids=["not cancellable in acknowledged", "past the point of no return"],
)
def test_a_refused_cancellation_ends_the_task_with_1087_and_leaves_the_order(refused: dict[str, Any]) -> None:
    outcome = rules.cancellation(PROFILE, refused, "t1", None, NOW)
    assert outcome.order is None
    assert outcome.task["state"] == "terminatedWithError"
    assert outcome.task["stateChangeReason"] == {"code": "1087", "description": "Eine Stornierung ist nicht möglich."}
    assert [type(e) for e in outcome.events] == [CancelProductOrderCreateEvent, CancelProductOrderStateChangeEvent]


def test_a_termination_aborts_open_orders_to_the_first_abort_state_they_allow_or_stops() -> None:
    reason = Reason("KUE-LE", "Abgebrochen")
    aborted = rules.aborted_for_termination(PROFILE, [order("accepted"), order("inProgress")], "p1", reason, NOW)
    assert [o["state"] for o in aborted] == ["cancelled", "failed"]
    assert all(o["stateChangeReason"] == {"code": "KUE-LE", "description": "Abgebrochen"} for o in aborted)
    with pytest.raises(Conflict, match="open order o1 in state 'assessingCancellation', which can be neither"):
        rules.aborted_for_termination(PROFILE, [order("assessingCancellation")], "p1", reason, NOW)


def test_the_buyers_answers_count_until_every_field_asked_for_is_given() -> None:
    request = {"fields": ["note", "productOrderItem"], "answered": []}
    first, done = rules.answered(request, order("pending"), {"note": [{"text": "x"}]}, "pending")
    assert first is not None
    assert (first["answered"], done) == (["note"], False)
    second, done = rules.answered(first, order("pending"), {"productOrderItem": []}, "pending")
    assert second is not None
    assert done is True
    assert rules.answered(request, order("inProgress"), {"note": []}, "pending") == (None, False)


def test_a_completed_state_change_dates_the_completion() -> None:
    changed = rules.state_change(PROFILE, order("inProgress"), "completed", "0010", NOW)
    assert (changed["completionDate"], changed["stateChangeReason"]["code"]) == (NOW, "0010")


def test_a_state_change_may_be_dated_before_its_event_but_not_ahead_of_it_nor_before_the_last_change() -> None:
    changed = rules.state_change(
        PROFILE,
        order("acknowledged"),
        "accepted",
        "0000",
        "2022-05-11T10:32:00+02:00",
        changed_at="2022-05-11T10:31:00+02:00",
    )
    assert changed["stateChangeDate"] == "2022-05-11T10:31:00+02:00"
    assert changed["stateChangeHistory"][-1]["changeDate"] == "2022-05-11T10:30:00+02:00"
    for bad, says in [
        ("2022-05-11T10:33:00+02:00", "lies after now"),
        ("2022-05-11T08:29:00Z", "before the order's last change"),
        ("2022-05-11T10:31:00", "not a date-time with an offset"),
        ("2022-05-11", "not a date-time with an offset"),
    ]:
        with pytest.raises(BadRequest) as refused:
            rules.state_change(PROFILE, order("acknowledged"), "accepted", "0000", "2022-05-11T10:32:00+02:00", bad)
        assert refused.value.violations[0].path == "$.stateChangeDate"
        assert says in refused.value.violations[0].message, bad


def test_the_fit_profile_dates_its_acceptance_a_minute_before_the_event_and_starts_with_0000() -> None:
    accepted = next(s for s in PROFILE.steps if s.state == "accepted")
    assert accepted.changed_before == 60
    assert PROFILE.initial_state_reason() == {"code": "0000", "description": "Keine Änderung zum Auftrag"}
    assert Profile.load(PLAIN_PROFILE).initial_state_reason() is None
