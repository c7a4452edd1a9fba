"""PI 25001 (UTILTS Berechnungsformel) business rules, after AHB FV2604 25001 (§3.3 of the MaCo brief). Pure."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pruefstand.contracts import Violation

Z33 = "BERECHNUNGSFORMEL_NOTWENDIG"
Z34 = "BERECHNUNGSFORMEL_MUSS_ANGEFRAGT_WERDEN"
Z40 = "BERECHNUNGSFORMEL_TRIVIAL"
Z41 = "BERECHNUNGSFORMEL_NICHT_NOTWENDIG"
_CODE = {Z33: "Z33", Z34: "Z34", Z40: "Z40", Z41: "Z41"}
VALID_PERIOD = "GUELTIGE_DATEN"
_ADD_SUB = frozenset({"ADDITION", "SUBTRAKTION"})
_PHONE = re.compile(r"\+[0-9]+")

_FORMULAS = "$.stammdaten.BERECHNUNGSFORMEL"
_PERIODS = "$.stammdaten.VERWENDUNGSZEITRAUM"
_SENDER = "$.transaktionsdaten.absender"


def pi25001_violations(body: Mapping[str, Any]) -> list[Violation]:
    stammdaten = body.get("stammdaten", {})
    formulas: Sequence[Mapping[str, Any]] = stammdaten.get("BERECHNUNGSFORMEL", [])
    periods: Sequence[Mapping[str, Any]] = stammdaten.get("VERWENDUNGSZEITRAUM", [])
    td = body.get("transaktionsdaten", {})
    found = period_violations(periods)
    found += formula_period_violations(formulas, periods)
    for index, formula in enumerate(formulas):
        found += formula_violations(index, formula, lokations_typ=td.get("lokationsTyp"))
    if any(f.get("notwendigkeit") == Z34 for f in formulas):
        found += contact_violations(td.get("absender", {}))
    return found


def period_violations(periods: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """[55] zeitraumId 1, 2, 3 … in order of repetition; [58] verwendungBis required when a later period follows."""
    found: list[Violation] = []
    for index, period in enumerate(periods):
        if period.get("zeitraumId") != index + 1:
            found.append(
                Violation(
                    f"{_PERIODS}[{index}].zeitraumId",
                    f"must be {index + 1}: periods are numbered 1, 2, 3 … in order (AHB 25001 [55])",
                )
            )
        if index + 1 < len(periods) and "verwendungBis" not in period:
            found.append(
                Violation(
                    f"{_PERIODS}[{index}].verwendungBis",
                    "is required when a period with a higher zeitraumId follows (AHB 25001 [58])",
                )
            )
    return found


def formula_period_violations(
    formulas: Sequence[Mapping[str, Any]], periods: Sequence[Mapping[str, Any]]
) -> list[Violation]:
    """[2004] exactly one BERECHNUNGSFORMEL per VERWENDUNGSZEITRAUM with GUELTIGE_DATEN, linked by zeitraumId."""
    valid_ids = [p.get("zeitraumId") for p in periods if p.get("datenqualitaet") == VALID_PERIOD]
    by_period: dict[Any, list[int]] = defaultdict(list)
    for index, formula in enumerate(formulas):
        by_period[formula.get("gueltigkeitszeitraum", {}).get("zeitraumId")].append(index)
    found: list[Violation] = []
    for period_id in valid_ids:
        count = len(by_period.get(period_id, []))
        if count != 1:
            found.append(
                Violation(
                    _FORMULAS,
                    f"needs exactly one formula for the VERWENDUNGSZEITRAUM with zeitraumId {period_id} and "
                    f"GUELTIGE_DATEN, found {count} (AHB 25001 [2004])",
                )
            )
    for period_id, indexes in by_period.items():
        if period_id not in valid_ids:
            found.append(
                Violation(
                    f"{_FORMULAS}[{indexes[0]}].gueltigkeitszeitraum.zeitraumId",
                    f"{period_id} matches no VERWENDUNGSZEITRAUM with GUELTIGE_DATEN (valid ids: {valid_ids})",
                )
            )
    return found


def formula_violations(index: int, formula: Mapping[str, Any], *, lokations_typ: Any) -> list[Violation]:
    here = f"{_FORMULAS}[{index}]"
    status = formula.get("notwendigkeit")
    code = _CODE.get(str(status), str(status))
    found: list[Violation] = []
    if status == Z41 and lokations_typ != "MALO":
        found.append(
            Violation(
                f"{here}.notwendigkeit",
                f"Z41 ({Z41}) is allowed for lokationsTyp MALO only, not {lokations_typ}",
            )
        )
    steps = formula.get("rechenschritte") or []
    if status == Z33:
        if "rechenschrittId" not in formula:
            found.append(Violation(f"{here}.rechenschrittId", "is required for Z33: the root step (SEQ+Z36)"))
        if not steps:
            found.append(
                Violation(f"{here}.rechenschritte", "needs at least one entry for Z33 (SEQ+Z37, AHB 25001 [2007])")
            )
        found += step_violations(here, formula.get("rechenschrittId"), steps)
    else:
        if "rechenschrittId" in formula:
            found.append(Violation(f"{here}.rechenschrittId", f"must be absent for {code}: only Z33 carries steps"))
        if steps:
            found.append(Violation(f"{here}.rechenschritte", f"must be absent for {code}: only Z33 carries steps"))
    return found


def step_violations(here: str, root_id: Any, steps: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """[5]/[6]/[9] each part references a MeLo or another step; [7] energy direction with a MeLo; [11]–[14]."""
    found: list[Violation] = []
    groups: dict[Any, list[str]] = defaultdict(list)
    for i, step in enumerate(steps):
        at = f"{here}.rechenschritte[{i}]"
        melo, ref = step.get("messlokationsId"), step.get("referenzRechenschrittId")
        if (melo is None) == (ref is None):
            found.append(
                Violation(
                    at,
                    "must reference exactly one of messlokationsId or referenzRechenschrittId (AHB [5],[6])",
                )
            )
        if ref is not None and ref == root_id:
            found.append(Violation(f"{at}.referenzRechenschrittId", f"{ref} refers to its own step (AHB 25001 [9])"))
        if melo is not None and "energieflussrichtung" not in step:
            found.append(
                Violation(f"{at}.energieflussrichtung", "is required when a Messlokation is referenced (AHB [7])")
            )
        groups[step.get("rechenschrittBestandteilId")].append(str(step.get("operation")))
    for part_id, operations in groups.items():
        problem = operator_problem(operations)
        if problem:
            found.append(Violation(f"{here}.rechenschritte", f"rechenschrittBestandteilId {part_id}: {problem}"))
    return found


def operator_problem(operations: Sequence[str]) -> str | None:
    """The operator combination rules of one part id, or None when they hold."""
    kinds = set(operations)
    if kinds & _ADD_SUB and kinds - _ADD_SUB:
        return f"ADDITION/SUBTRAKTION may only be combined with each other, found {sorted(kinds)} (AHB [11])"
    if "POSITIVWERT" in kinds and len(operations) != 1:
        return "POSITIVWERT must stand alone (AHB [12])"
    if kinds & {"DIVISION", "DIVIDEND"} and sorted(operations) != ["DIVIDEND", "DIVISION"]:
        return f"DIVISION and DIVIDEND must appear as exactly one pair, found {sorted(operations)} (AHB [13])"
    if "MULTIPLIKATION" in kinds and kinds != {"MULTIPLIKATION"}:
        return "MULTIPLIKATION (Faktor) may only be combined with MULTIPLIKATION (AHB [14])"
    return None


def contact_violations(sender: Mapping[str, Any]) -> list[Violation]:
    """[2] a contact is mandatory when any formula is Z34; [939] e-mail with "@" and "."; [940] "+" and digits."""
    contact = sender.get("ansprechpartner")
    if not isinstance(contact, Mapping):
        return [
            Violation(
                f"{_SENDER}.ansprechpartner",
                f"is required when a formula has notwendigkeit {Z34} (Z34: the formula must be requested from the "
                "sender, AHB 25001 [2])",
            )
        ]
    found: list[Violation] = []
    email = contact.get("eMailAdresse")
    if not isinstance(email, str) or not _is_plausible_email(email):
        found.append(
            Violation(
                f"{_SENDER}.ansprechpartner.eMailAdresse",
                f"a valid e-mail address is required for Z34 (with '@' and '.'), got {email!r} (AHB 25001 [939])",
            )
        )
    for i, phone in enumerate(contact.get("rufnummern") or []):
        number = phone.get("rufnummer") if isinstance(phone, Mapping) else None
        if number is not None and not _PHONE.fullmatch(str(number)):
            found.append(
                Violation(
                    f"{_SENDER}.ansprechpartner.rufnummern[{i}].rufnummer",
                    f"must be '+' followed by digits only, got {number!r} (AHB 25001 [940])",
                )
            )
    return found


def _is_plausible_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain.strip(".") and " " not in value)
