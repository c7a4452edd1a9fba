"""The receipt's data fields (domain/quittung.md §4): which are mandatory, how values sent as strings are read, and
what can be derived (tx_energy from meter readings, tx_duration from start and end times). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pruefstand.contracts import Violation

MANDATORY = (
    "seller_name",
    "seller_email",
    "seller_zipcode",
    "seller_yrconsumption",
    "buyer_name",
    "tx_energy",
    "tx_duration",
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ZIPCODE = re.compile(r"\d{5}")
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# lowest, whether the lowest is allowed, highest: kWh per year, kWh per receipt, minutes per receipt
_RANGES = {
    "seller_yrconsumption": (Decimal(1), True, Decimal(1_000_000_000)),
    "tx_energy": (Decimal(0), False, Decimal(1_000_000)),
    "tx_duration": (Decimal(0), True, Decimal(10_000_000)),
}
# Keys of the transport, not of the receipt: never stored as fields.
CONTROL_KEYS = frozenset({"account", "preperation", "token"})


@dataclass(frozen=True, slots=True)
class ReceiptInput:
    """What a receipt is issued from, read and checked."""

    seller_name: str
    seller_email: str
    seller_zipcode: str
    seller_yrconsumption: Decimal
    buyer_name: str
    tx_energy: Decimal  # kWh
    tx_duration: Decimal  # minutes
    tx_date: datetime | None
    small_business: bool


@dataclass(frozen=True, slots=True)
class Missing:
    """Mandatory fields that are not there (yet): the draft stays a draft."""

    names: tuple[str, ...]


def with_derived(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields plus what they imply: `tx_energy = endKWH - startKWH` and `tx_duration` in whole minutes from
    `startTime`/`endTime` (epoch ms), when those are given and the target field is not."""
    derived = dict(fields)
    if _blank(derived.get("tx_energy")) and not _blank(fields.get("startKWH")) and not _blank(fields.get("endKWH")):
        start, end = _decimal(fields["startKWH"]), _decimal(fields["endKWH"])
        if start is not None and end is not None:
            derived["tx_energy"] = str(end - start)
    if _blank(derived.get("tx_duration")) and not _blank(fields.get("startTime")) and not _blank(fields.get("endTime")):
        start, end = _decimal(fields["startTime"]), _decimal(fields["endTime"])
        if start is not None and end is not None:
            derived["tx_duration"] = str(((end - start) / Decimal(60_000)).quantize(Decimal(1)))
    return derived


def read_input(fields: Mapping[str, Any]) -> ReceiptInput | Missing | list[Violation]:
    """Missing mandatory fields first (the draft goes on collecting); then every value that is there but wrong."""
    fields = with_derived(fields)
    missing = tuple(name for name in MANDATORY if _blank(fields.get(name)))
    if missing:
        return Missing(missing)
    problems: list[Violation] = []
    for name in ("seller_name", "buyer_name"):
        value = fields[name]
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or _CONTROL.search(value):
            problems.append(
                Violation(f"$.{name}", f"expected a text of 1 to {MAX_TEXT} printable characters, got {_shown(value)}")
            )
    email = fields["seller_email"]
    if not isinstance(email, str) or len(email) > MAX_TEXT or not _EMAIL.fullmatch(email) or _CONTROL.search(email):
        problems.append(Violation("$.seller_email", f"expected an e-mail address, got {_shown(email)}"))
    if not _ZIPCODE.fullmatch(str(fields["seller_zipcode"])):
        problems.append(
            Violation(
                "$.seller_zipcode", f"expected a German postcode (5 digits), got {_shown(fields['seller_zipcode'])}"
            )
        )
    numbers: dict[str, Decimal] = {}
    for name, (lowest, inclusive, highest) in _RANGES.items():
        value = _decimal(fields[name])
        if value is None:
            problems.append(Violation(f"$.{name}", f"expected a number, got {_shown(fields[name])}"))
        elif value < lowest or (value == lowest and not inclusive) or value > highest:
            bound = f"{'>=' if inclusive else '>'} {lowest} and <= {highest}"
            problems.append(Violation(f"$.{name}", f"expected a number {bound}, got {_shown(fields[name])}"))
        else:
            numbers[name] = value
    tx_date = None
    if not _blank(fields.get("tx_date")):
        tx_date = parse_tx_date(fields["tx_date"])
        if tx_date is None:
            problems.append(
                Violation("$.tx_date", f"expected YYYY-MM-DDTHH:MM or ISO 8601 date-time, got {fields['tx_date']!r}")
            )
    small = fields.get("seller_small_business", False)
    if not isinstance(small, bool) and str(small).lower() not in ("true", "false", "1", "0", ""):
        problems.append(Violation("$.seller_small_business", f"expected true or false, got {small!r}"))
    if problems:
        return problems
    return ReceiptInput(
        seller_name=str(fields["seller_name"]).strip(),
        seller_email=str(fields["seller_email"]),
        seller_zipcode=str(fields["seller_zipcode"]),
        seller_yrconsumption=numbers["seller_yrconsumption"],
        buyer_name=str(fields["buyer_name"]).strip(),
        tx_energy=numbers["tx_energy"],
        tx_duration=numbers["tx_duration"],
        tx_date=tx_date,
        small_business=small is True or str(small).lower() in ("true", "1"),
    )


def parse_tx_date(value: Any) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` (the callers' datetime-local value, read as UTC) or a full ISO 8601 date-time."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _shown(value: Any) -> str:
    """The value as the message quotes it: repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
