"""Validation layers 3–5 of a trigger that already matches its event schema. Pure: data in, violations out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.maco import identifiers
from pruefstand.mock_server.flows.maco.events import MacoEvent
from pruefstand.mock_server.flows.maco.pi25001 import pi25001_violations

EventRule = Callable[..., list[Violation]]  # (body, *, now) -> violations

EVENT_RULES: dict[str, EventRule] = {"PI_25001": pi25001_violations}

_TD = "$.transaktionsdaten"


def trigger_violations(
    event: MacoEvent, body: Mapping[str, Any], *, strict_check_digits: bool, now: datetime | None = None
) -> list[Violation]:
    """All violations of roles, identifiers and the event's business rules, in that order; `now` is the message
    date (rules about dates relative to it are skipped without it)."""
    found = role_violations(event, body)
    found += identifier_violations(body, strict_check_digits=strict_check_digits)
    for rule_set in event.rules:
        found += EVENT_RULES[rule_set](body, now=now)
    return found


def role_violations(event: MacoEvent, body: Mapping[str, Any]) -> list[Violation]:
    td = body.get("transaktionsdaten", {})
    found: list[Violation] = []
    sender_role = td.get("absender", {}).get("marktrolle")
    if sender_role != event.role:
        found.append(
            Violation(f"{_TD}.absender.marktrolle", f"{event.name} is sent by {event.role}, not by {sender_role}")
        )
    receiver_role = td.get("empfaenger", {}).get("marktrolle")
    if event.receivers and receiver_role not in event.receivers:
        found.append(
            Violation(
                f"{_TD}.empfaenger.marktrolle",
                f"{event.name} goes to one of {list(event.receivers)}, not to {receiver_role}",
            )
        )
    sparte = td.get("sparte")
    if sparte is not None and event.sparten and sparte not in event.sparten:
        found.append(Violation(f"{_TD}.sparte", f"{event.name} exists for {list(event.sparten)}, not for {sparte}"))
    return found


def identifier_violations(body: Mapping[str, Any], *, strict_check_digits: bool) -> list[Violation]:
    td = body.get("transaktionsdaten", {})
    found: list[Violation] = []
    for party in ("absender", "empfaenger"):
        participant = td.get(party, {})
        code = participant.get("rollencodenummer")
        if (
            strict_check_digits
            and isinstance(code, str)
            and not identifiers.has_valid_mp_id_check_digit(code, participant.get("rollencodetyp", "BDEW"))
        ):
            found.append(
                Violation(
                    f"{_TD}.{party}.rollencodenummer",
                    f"check digit of MP-ID {code} is wrong for code list {participant.get('rollencodetyp')}",
                )
            )
    lokations_id, lokations_typ = td.get("lokationsId"), td.get("lokationsTyp")
    if isinstance(lokations_id, str) and isinstance(lokations_typ, str):
        if not identifiers.fits_lokationstyp(lokations_id, lokations_typ):
            found.append(
                Violation(
                    f"{_TD}.lokationsId",
                    f"{lokations_id!r} does not fit lokationsTyp {lokations_typ}: expected "
                    f"{identifiers.expected_format(lokations_typ)}",
                )
            )
        elif strict_check_digits and not identifiers.has_valid_check_digit(lokations_id, lokations_typ):
            expected = identifiers.expected_check_digit(lokations_id)
            found.append(
                Violation(
                    f"{_TD}.lokationsId",
                    f"check digit of {lokations_typ} ID {lokations_id} is wrong: expected {expected} (strict mode)",
                )
            )
    elif isinstance(lokations_id, str) and lokations_typ is None:
        found.append(Violation(f"{_TD}.lokationsTyp", "is required when lokationsId is given"))
    return found


def derive_pruefidentifikator(event: MacoEvent, body: Mapping[str, Any]) -> str:
    """The Prüfidentifikator the app would use; a value sent by the caller is never consulted."""
    td = body.get("transaktionsdaten", {})
    for choice in event.pruefidentifikator:
        if all(_value_at(td, path) == expected for path, expected in choice.when):
            return choice.value
    return event.pruefidentifikator[-1].value


def _value_at(node: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
