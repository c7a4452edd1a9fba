"""PI 25001 (UTILTS Berechnungsformel) business rules, after AHB FV2604 25001 (§3.3 of the MaCo brief). Pure.

Each refusal cites the AHB condition it enforces (`AHB 25001 [56]`); docs/MACO_RULES.md lists them all, each with its
unit test and refusal scenario. `now` is the message date (the sandbox clock when the trigger arrives).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.maco.formula_rules import (
    Z34,
    formula_period_violations,
    formula_violations,
)

_PHONE = re.compile(r"\+[0-9]+")
_GERMAN = ZoneInfo("Europe/Berlin")
_STROM_CODE_TYPES = ("BDEW", "GS1", "GLN")
_LOCATION_TYPES = ("MALO", "NELO")

_PERIODS = "$.stammdaten.VERWENDUNGSZEITRAUM"
_TD = "$.transaktionsdaten"
_SENDER = "$.transaktionsdaten.absender"


def pi25001_violations(body: Mapping[str, Any], *, now: datetime | None = None) -> list[Violation]:
    stammdaten = body.get("stammdaten", {})
    formulas: Sequence[Mapping[str, Any]] = stammdaten.get("BERECHNUNGSFORMEL", [])
    periods: Sequence[Mapping[str, Any]] = stammdaten.get("VERWENDUNGSZEITRAUM", [])
    td = body.get("transaktionsdaten", {})
    found = party_violations(td)
    found += location_violations(td)
    found += period_violations(periods)
    found += bo_violations(formulas, periods, td.get("absender", {}))
    found += period_date_violations(periods, now=now)
    found += formula_period_violations(formulas, periods)
    for index, formula in enumerate(formulas):
        found += formula_violations(index, formula, lokations_typ=td.get("lokationsTyp"))
    sender = td.get("absender", {})
    if any(f.get("notwendigkeit") == Z34 for f in formulas):
        found += contact_required(sender)
    found += communication_violations(sender)
    return found


def party_violations(td: Mapping[str, Any]) -> list[Violation]:
    """[1] only MP-IDs of Sparte Strom, from the code lists GS1 (9) or BDEW (293): no DVGW (gas) code list, and a
    BDEW code number of Sparte Strom (99…; 98… are gas)."""
    found: list[Violation] = []
    for party in ("absender", "empfaenger"):
        participant = td.get(party) or {}
        kind, code = participant.get("rollencodetyp"), participant.get("rollencodenummer")
        if kind is not None and kind not in _STROM_CODE_TYPES:
            found.append(
                Violation(
                    f"{_TD}.{party}.rollencodetyp",
                    f"must be BDEW or GS1 (NAD 3055: 293 or 9), not {kind}: PI 25001 takes MP-IDs of Sparte Strom "
                    "only (AHB 25001 [1])",
                )
            )
        elif kind == "BDEW" and isinstance(code, str) and not code.startswith("99"):
            what = "a gas MP-ID (BDEW codes of Sparte Gas start with 98)" if code.startswith("98") else "no Strom MP-ID"
            found.append(
                Violation(
                    f"{_TD}.{party}.rollencodenummer",
                    f"{code} is {what}, but PI 25001 takes MP-IDs of Sparte Strom only, BDEW 99… (AHB 25001 [1])",
                )
            )
    return found


def location_violations(td: Mapping[str, Any]) -> list[Violation]:
    """[950] ⊻ [960]: LOC+172 names a Marktlokation or a Netzlokation, nothing else (no MeLo, no Tranche)."""
    kind = td.get("lokationsTyp")
    if kind is None or kind in _LOCATION_TYPES:
        return []
    return [
        Violation(
            f"{_TD}.lokationsTyp",
            f"must be MALO or NELO, not {kind}: the formula is sent for a Marktlokation or a Netzlokation "
            "(LOC+172, AHB 25001 [950] ⊻ [960])",
        )
    ]


PERIOD_QUALITIES = ("GUELTIGE_DATEN", "KEINE_DATEN")  # SG6 RFF+Z49 / RFF+Z53: the only two a 25001 period has


def bo_violations(
    formulas: Sequence[Mapping[str, Any]], periods: Sequence[Mapping[str, Any]], sender: Mapping[str, Any]
) -> list[Violation]:
    """Every business object of the trigger carries `boTyp` and `versionStruktur` (domain/maco.md §10; each object of
    the published examples carries both): each BERECHNUNGSFORMEL, each VERWENDUNGSZEITRAUM, the sender's
    ANSPRECHPARTNER (sender and receiver: their schema)."""
    objects = [(f"$.stammdaten.BERECHNUNGSFORMEL[{i}]", f) for i, f in enumerate(formulas)]
    objects += [(f"{_PERIODS}[{i}]", p) for i, p in enumerate(periods)]
    if isinstance(sender.get("ansprechpartner"), Mapping):
        objects.append(("$.transaktionsdaten.absender.ansprechpartner", sender["ansprechpartner"]))
    return [
        Violation(f"{where}.{key}", "is required on every business object (BO4E, as the published examples carry it)")
        for where, bo in objects
        if isinstance(bo, Mapping)
        for key in ("boTyp", "versionStruktur")
        if key not in bo
    ]


def period_violations(periods: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """[55] zeitraumId 1, 2, 3 … in order of repetition; [58] verwendungBis required when a later period follows; a
    period's datenqualitaet is GUELTIGE_DATEN (RFF+Z49) or KEINE_DATEN (RFF+Z53), the only two SG6 has in 25001."""
    found: list[Violation] = []
    for index, period in enumerate(periods):
        quality = period.get("datenqualitaet")
        if quality is not None and quality not in PERIOD_QUALITIES:
            found.append(
                Violation(
                    f"{_PERIODS}[{index}].datenqualitaet",
                    f"{quality!r} is not a 25001 period: GUELTIGE_DATEN (RFF+Z49) or KEINE_DATEN (RFF+Z53) (AHB 25001 "
                    "SG6)",
                )
            )
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


def period_date_violations(periods: Sequence[Mapping[str, Any]], *, now: datetime | None) -> list[Violation]:  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
    """[UB1] every verwendungAb/-Bis in UTC ([931]) at 0:00 German time (22:00 or 23:00 UTC, [932]/[933]);
    [56] period 1 starts at the latest on the day after the message date; [57] a later period starts where the
    period with the next lower id ends."""
    found: list[Violation] = []
    starts: dict[int, datetime] = {}
    ends: dict[int, datetime] = {}
    for index, period in enumerate(periods):
        for key in ("verwendungAb", "verwendungBis"):
            value = period.get(key)
            if not isinstance(value, str):
                continue
            at = f"{_PERIODS}[{index}].{key}"
            moment = _instant(value)
            if moment is None:
                continue  # the schema's date-time format names it
            if moment.utcoffset() != timedelta(0):
                found.append(Violation(at, f"{value!r} must be written in UTC (Z or +00:00) (AHB 25001 [931])"))
            try:  # compared in UTC from here on; an instant at the edge of year 1 or 9999 has no German time
                german, moment = moment.astimezone(_GERMAN), moment.astimezone(UTC)
            except OverflowError:
                found.append(Violation(at, f"{value!r} lies outside the years 1 to 9999 in German time"))
                continue
            if (german.hour, german.minute, german.second, german.microsecond) != (0, 0, 0, 0):
                found.append(
                    Violation(
                        at,
                        f"{value!r} is {german:%H:%M} German time, but a period starts and ends at 0:00 German time "
                        "(22:00 or 23:00 UTC) (AHB 25001 [UB1]: [932]/[933])",
                    )
                )
            zeitraum = period.get("zeitraumId")
            if isinstance(zeitraum, int):
                (starts if key == "verwendungAb" else ends)[zeitraum] = moment
    first = starts.get(1)
    if first is not None and now is not None:
        latest = datetime.combine(now.astimezone(_GERMAN).date() + timedelta(days=1), datetime.min.time(), _GERMAN)
        if first > latest:
            index = next(i for i, p in enumerate(periods) if p.get("zeitraumId") == 1)
            found.append(
                Violation(
                    f"{_PERIODS}[{index}].verwendungAb",
                    f"period 1 must start at the latest on the day after the message date ({now:%Y-%m-%d}), i.e. "
                    f"by {latest.isoformat()}, not {periods[index]['verwendungAb']} (AHB 25001 [56])",
                )
            )
    for index, period in enumerate(periods):
        zeitraum = period.get("zeitraumId")
        if not isinstance(zeitraum, int) or zeitraum == 1 or zeitraum not in starts:
            continue
        previous_end = ends.get(zeitraum - 1)
        if previous_end is not None and starts[zeitraum] != previous_end:
            found.append(
                Violation(
                    f"{_PERIODS}[{index}].verwendungAb",
                    f"must equal verwendungBis of period {zeitraum - 1} ({previous_end.isoformat()}): periods join up "
                    "without gap or overlap (AHB 25001 [57])",
                )
            )
    return found


def _instant(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def contact_required(sender: Mapping[str, Any]) -> list[Violation]:
    """[2] a contact (SG3) is mandatory when any formula is Z34."""
    if isinstance(sender.get("ansprechpartner"), Mapping):
        if sender["ansprechpartner"].get("eMailAdresse") is None and not _phone_entries(sender):
            return [
                Violation(
                    f"{_SENDER}.ansprechpartner.eMailAdresse",
                    "a contact for Z34 needs a way to reach it: an e-mail address or a phone number (COM, AHB "
                    "25001 [2])",
                )
            ]
        return []
    return [
        Violation(
            f"{_SENDER}.ansprechpartner",
            f"is required when a formula has notwendigkeit {Z34} (Z34: the formula must be requested from the "
            "sender, AHB 25001 [2])",
        )
    ]


def communication_violations(sender: Mapping[str, Any]) -> list[Violation]:
    """COM formats, wherever given: [939] an e-mail address contains "@" and "."; [940] a phone number is "+" then
    digits only. Phone numbers may stand under the contact or beside it (where the published page puts them), the
    number as a string or as an object holding it."""
    found: list[Violation] = []
    contact = sender.get("ansprechpartner")
    email = contact.get("eMailAdresse") if isinstance(contact, Mapping) else None
    if email is not None and (not isinstance(email, str) or not _is_plausible_email(email)):
        found.append(
            Violation(
                f"{_SENDER}.ansprechpartner.eMailAdresse",
                f"must be an e-mail address with '@' and '.', got {email!r} (AHB 25001 [939])",
            )
        )
    for where, number in _phone_entries(sender):
        if number is None:
            found.append(Violation(where, "holds no phone number (a string, or an object with rufnummer)"))
        elif not _PHONE.fullmatch(number):
            found.append(Violation(where, f"must be '+' followed by digits only, got {number!r} (AHB 25001 [940])"))
    return found


def _phone_entries(sender: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(JSON path, number) of every phone number of the sender: under ansprechpartner.rufnummern and rufnummern."""
    lists: list[tuple[str, Any]] = [(f"{_SENDER}.rufnummern", sender.get("rufnummern"))]
    contact = sender.get("ansprechpartner")
    if isinstance(contact, Mapping):
        lists.insert(0, (f"{_SENDER}.ansprechpartner.rufnummern", contact.get("rufnummern")))
    found: list[tuple[str, str | None]] = []
    for base, entries in lists:
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, Mapping) or "rufnummer" not in entry:
                continue
            number = entry["rufnummer"]
            if isinstance(number, Mapping):
                number = next((v for k in ("rufnummer", "nummer", "wert") if isinstance(v := number.get(k), str)), None)
            found.append((f"{base}[{i}].rufnummer", number if isinstance(number, str) else None))
    return found


def _is_plausible_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain.strip(".") and " " not in value)
