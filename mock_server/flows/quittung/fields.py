"""The receipt's data fields (domain/quittung.md §4): which are mandatory, how values sent as strings are read, and
what can be derived (tx_energy from meter readings, tx_duration from start and end times). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# Optional invoice fields (mock choice: the corrently docs name no address or tax fields, domain/quittung.md §4.3).
ADDRESS_TEXT = ("seller_street", "seller_city", "buyer_street", "buyer_city")
_COUNTRY = re.compile(r"[A-Z]{2}")
_VAT_ID = re.compile(r"(?:DE[0-9]{9}|(?!DE)[A-Z]{2}[0-9A-Za-z+*.]{2,12})")
_TAX_NUMBER = re.compile(r"[0-9]{2,5}/?[0-9]{3,4}/?[0-9]{4,5}")
_FOREIGN_POSTCODE = re.compile(r"[0-9A-Za-z -]{2,10}")
# tx_date (the delivery): at most this far after the issue date (clocks and time zones differ) and at most this far
# back (the 10 years an invoice is kept, § 14b UStG / § 147 AO; the published example dates from 2021)
TX_DATE_AHEAD = timedelta(days=1)
TX_DATE_BACK = timedelta(days=3653)
SMALL_INVOICE_LIMIT = Decimal(250)  # § 33 UStDV: up to 250 € gross a Kleinbetragsrechnung needs no buyer
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
    seller_street: str | None = None
    seller_city: str | None = None
    seller_country: str = "DE"
    seller_vatid: str | None = None
    seller_taxnumber: str | None = None
    buyer_street: str | None = None
    buyer_zipcode: str | None = None
    buyer_city: str | None = None
    buyer_country: str = "DE"

    def invoice_missing(self, gross: Decimal) -> list[str]:
        """What the receipt lacks to be an invoice (§ 14 UStG, EN 16931): the seller's full address and VAT ID or tax
        number always; above 250 € gross (§ 33 UStDV) also the buyer's full address."""
        missing = [name for name in ("seller_street", "seller_city") if getattr(self, name) is None]
        if self.seller_vatid is None and self.seller_taxnumber is None:
            missing.append("seller_vatid or seller_taxnumber")
        if gross > SMALL_INVOICE_LIMIT:
            missing += [n for n in ("buyer_street", "buyer_zipcode", "buyer_city") if getattr(self, n) is None]
        return missing


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


def read_input(fields: Mapping[str, Any], now: datetime | None = None) -> ReceiptInput | Missing | list[Violation]:  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
    """Missing mandatory fields first (the draft goes on collecting); then every value that is there but wrong.
    `now` (the message date) bounds tx_date."""
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
        elif now is not None and not (now - TX_DATE_BACK <= tx_date <= now + TX_DATE_AHEAD):
            problems.append(
                Violation(
                    "$.tx_date",
                    f"the delivery must lie between {now - TX_DATE_BACK:%Y-%m-%d} and "
                    f"{now + TX_DATE_AHEAD:%Y-%m-%d} (at most 10 years back, one day ahead of the issue date), "
                    f"got {fields['tx_date']!r}",
                )
            )
    small = fields.get("seller_small_business", False)
    if not isinstance(small, bool) and str(small).lower() not in ("true", "false", "1", "0", ""):
        problems.append(Violation("$.seller_small_business", f"expected true or false, got {small!r}"))
    optional, more = _invoice_fields(fields)
    problems += more
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
        **optional,
    )


def _invoice_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[Violation]]:  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
    """The optional address and tax fields, read and checked where given."""
    found: dict[str, Any] = {}
    problems: list[Violation] = []
    for name in ADDRESS_TEXT:
        value = fields.get(name)
        if _blank(value):
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT or _CONTROL.search(value):
            problems.append(
                Violation(f"$.{name}", f"expected a text of 1 to {MAX_TEXT} printable characters, got {_shown(value)}")
            )
        else:
            found[name] = value.strip()
    for name in ("seller_country", "buyer_country"):
        value = fields.get(name)
        if _blank(value):
            continue
        if not isinstance(value, str) or not _COUNTRY.fullmatch(value.strip().upper()):
            problems.append(
                Violation(f"$.{name}", f"expected an ISO 3166-1 alpha-2 country code (DE), got {_shown(value)}")
            )
        else:
            found[name] = value.strip().upper()
    postcode = fields.get("buyer_zipcode")
    if not _blank(postcode):
        german = found.get("buyer_country", "DE") == "DE"
        pattern = _ZIPCODE if german else _FOREIGN_POSTCODE
        if not pattern.fullmatch(str(postcode).strip()):
            what = "a German postcode (5 digits)" if german else "a postcode (2 to 10 letters and digits)"
            problems.append(Violation("$.buyer_zipcode", f"expected {what}, got {_shown(postcode)}"))
        else:
            found["buyer_zipcode"] = str(postcode).strip()
    vat_id = fields.get("seller_vatid")
    if not _blank(vat_id):
        compact = str(vat_id).replace(" ", "").upper()
        if not _VAT_ID.fullmatch(compact):
            problems.append(
                Violation("$.seller_vatid", f"expected a VAT ID (USt-IdNr.: DE and 9 digits), got {_shown(vat_id)}")
            )
        else:
            found["seller_vatid"] = compact
    tax_number = fields.get("seller_taxnumber")
    if not _blank(tax_number):
        compact = str(tax_number).replace(" ", "")
        if not _TAX_NUMBER.fullmatch(compact):
            problems.append(
                Violation(
                    "$.seller_taxnumber",
                    f"expected a German tax number (Steuernummer, e.g. 21/815/08150), got {_shown(tax_number)}",
                )
            )
        else:
            found["seller_taxnumber"] = compact
    return found, problems


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
