"""PI 25001 formulas (BERECHNUNGSFORMEL): one per period with valid data, their status codes (Z33, Z34, Z40, Z41),
the calculation steps, their factors and operators, after AHB FV2604 25001. Pure; pi25001.py runs them with the
message's other rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pruefstand.contracts import Violation

Z33 = "BERECHNUNGSFORMEL_NOTWENDIG"
Z34 = "BERECHNUNGSFORMEL_MUSS_ANGEFRAGT_WERDEN"
Z40 = "BERECHNUNGSFORMEL_TRIVIAL"
Z41 = "BERECHNUNGSFORMEL_NICHT_NOTWENDIG"
_CODE = {Z33: "Z33", Z34: "Z34", Z40: "Z40", Z41: "Z41"}
VALID_PERIOD = "GUELTIGE_DATEN"
_ADD_SUB = frozenset({"ADDITION", "SUBTRAKTION"})

_FORMULAS = "$.stammdaten.BERECHNUNGSFORMEL"


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
                    f"{period_id} matches no VERWENDUNGSZEITRAUM with GUELTIGE_DATEN (valid ids: {valid_ids}) "
                    "(AHB 25001 [2004])",
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
                f"Z41 ({Z41}) is allowed for lokationsTyp MALO only, not {lokations_typ} (AHB 25001 [3P]: [25])",
            )
        )
    steps = formula.get("rechenschritte") or []
    if status == Z33:
        if "rechenschrittId" not in formula:
            found.append(
                Violation(
                    f"{here}.rechenschrittId",
                    "is required for Z33: the root step of the formula, SEQ+Z36 once per period (AHB 25001 [2007])",
                )
            )
        if not steps:
            found.append(
                Violation(
                    f"{here}.rechenschritte",
                    "needs at least one entry for Z33: the parts of the steps, SEQ+Z37 (AHB 25001 [2006])",
                )
            )
        found += step_violations(here, formula.get("rechenschrittId"), steps)
    else:
        if "rechenschrittId" in formula:
            found.append(
                Violation(
                    f"{here}.rechenschrittId",
                    f"must be absent for {code}: only Z33 carries steps (AHB 25001 [2007])",
                )
            )
        if steps:
            found.append(
                Violation(
                    f"{here}.rechenschritte", f"must be absent for {code}: only Z33 carries steps (AHB 25001 [2006])"
                )
            )
    return found


def step_violations(here: str, root_id: Any, steps: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """[8] root and references name a part id of this formula; [5]/[6] each part references a MeLo or a step;
    [9] never its own step; [7] energy direction with a MeLo; [11]–[14] operators; factors [912]/[914]/[915]/[969]."""
    found: list[Violation] = []
    part_ids = {step.get("rechenschrittBestandteilId") for step in steps}
    if root_id is not None and steps and root_id not in part_ids:
        found.append(
            Violation(
                f"{here}.rechenschrittId",
                f"{root_id} names no step of this formula (rechenschrittBestandteilId: {sorted(map(str, part_ids))}) "
                "(AHB 25001 [8])",
            )
        )
    groups: dict[Any, list[str]] = defaultdict(list)
    for i, step in enumerate(steps):
        at = f"{here}.rechenschritte[{i}]"
        melo, ref = step.get("messlokationsId"), step.get("referenzRechenschrittId")
        if (melo is None) == (ref is None):
            found.append(
                Violation(
                    at,
                    "must reference exactly one of messlokationsId or referenzRechenschrittId (AHB 25001 [5]/[6])",
                )
            )
        if ref is not None and ref == step.get("rechenschrittBestandteilId"):
            found.append(Violation(f"{at}.referenzRechenschrittId", f"{ref} refers to its own step (AHB 25001 [9])"))
        elif ref is not None and ref not in part_ids:
            found.append(
                Violation(
                    f"{at}.referenzRechenschrittId",
                    f"{ref} names no step of this formula (rechenschrittBestandteilId: "
                    f"{sorted(map(str, part_ids))}) (AHB 25001 [8])",
                )
            )
        if melo is not None and "energieflussrichtung" not in step:
            found.append(
                Violation(f"{at}.energieflussrichtung", "is required when a Messlokation is referenced (AHB 25001 [7])")
            )
        found += factor_violations(at, step)
        groups[step.get("rechenschrittBestandteilId")].append(str(step.get("operation")))
    for part_id, operations in groups.items():
        problem = operator_problem(operations)
        if problem:
            found.append(Violation(f"{here}.rechenschritte", f"rechenschrittBestandteilId {part_id}: {problem}"))
    return found


def factor_violations(at: str, step: Mapping[str, Any]) -> list[Violation]:
    """Loss factors: > 0 [914], ≠ 1 [915], at most 6 decimals [912]; allocation factor: > 0 [914], ≤ 1 [969], at
    most 6 decimals [912]. A factor may come as a number or as a decimal string (the published schema types the
    allocation factor as a string)."""
    found: list[Violation] = []
    for key in ("verlustfaktorTrafo", "verlustfaktorLeitung", "aufteilungsfaktorEnergiemenge"):
        if key not in step:
            continue
        value = _decimal(step[key])
        where = f"{at}.{key}"
        if value is None:
            found.append(Violation(where, f"{step[key]!r} is not a decimal number"))
            continue
        if value <= 0:
            found.append(Violation(where, f"{step[key]} must be greater than 0 (AHB 25001 [914])"))
        if key == "aufteilungsfaktorEnergiemenge" and value > 1:
            found.append(Violation(where, f"{step[key]} must be at most 1 (AHB 25001 [969])"))
        if key != "aufteilungsfaktorEnergiemenge" and value == 1:
            found.append(Violation(where, "must not be 1: a loss factor of 1 is no loss (AHB 25001 [915])"))
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > 6:
            found.append(Violation(where, f"{step[key]} has more than 6 decimals (AHB 25001 [912])"))
    return found


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def operator_problem(operations: Sequence[str]) -> str | None:
    """The operator rules of one step id, or None when they hold; each operator's own rule is checked in the order
    the operators first appear (so a Faktor step mixed with anything names [14], a Positivwert one [12])."""
    kinds = set(operations)
    for kind in dict.fromkeys(operations):
        if kind in _ADD_SUB and kinds - _ADD_SUB:
            return f"ADDITION/SUBTRAKTION may only be combined with each other, found {sorted(kinds)} (AHB 25001 [11])"
        if kind == "POSITIVWERT" and len(operations) != 1:
            return f"POSITIVWERT must stand alone under its step id, found {sorted(operations)} (AHB 25001 [12])"
        if kind in ("DIVISION", "DIVIDEND") and sorted(operations) != ["DIVIDEND", "DIVISION"]:
            return f"DIVISION and DIVIDEND must appear as exactly one pair, found {sorted(operations)} (AHB 25001 [13])"
        if kind == "MULTIPLIKATION" and kinds != {"MULTIPLIKATION"}:
            return (
                f"MULTIPLIKATION (Faktor) may only be combined with MULTIPLIKATION, found {sorted(kinds)} "
                "(AHB 25001 [14])"
            )
    return None
