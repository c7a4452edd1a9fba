"""Strom-Quittung rules: the amounts over many generated inputs (net + VAT = gross, nothing negative, cents), the
mandatory fields and what can be derived, the QR payload's process data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pruefstand.mock_server.flows.quittung.amounts import EXEMPTION_NOTE, Tariff, compute
from pruefstand.mock_server.flows.quittung.fields import MANDATORY, Missing, ReceiptInput, read_input
from pruefstand.mock_server.flows.quittung.kassensichv import process_data

TARIFF = Tariff(Decimal("35.00"), Decimal("12.00"))
COMPLETE = {
    "seller_name": "Maxima Ladesäulia",
    "seller_email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": "2500",
    "buyer_name": "Ludwig von Auto GmbH",
    "tx_energy": "2.123",
    "tx_duration": "25",
}

kwh = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
yearly = st.decimals(min_value=Decimal("1"), max_value=Decimal("10000000"), places=0)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("200"), places=2)


@given(kwh, yearly, prices, prices, st.booleans())
def test_net_plus_vat_is_gross_in_cents_and_nothing_is_negative(
    energy: Decimal, per_year: Decimal, ap: Decimal, gp: Decimal, small: bool
) -> None:
    amounts = compute(energy, per_year, Tariff(ap, gp), small_business=small)
    assert amounts.net + amounts.vat == amounts.gross == amounts.energy_gross + amounts.base_gross
    for value in (amounts.net, amounts.vat, amounts.gross, amounts.energy_gross, amounts.base_gross):
        assert value >= 0
        assert value.as_tuple().exponent == -2  # whole cents
    if small:
        assert (amounts.vat, amounts.note) == (Decimal("0.00"), EXEMPTION_NOTE)
    else:
        assert abs(amounts.vat - amounts.net * Decimal("0.19")) <= Decimal("0.01")  # 19 % of net, to the cent


def test_the_documented_example_costs_what_the_tariff_says() -> None:
    """2.123 kWh at 35 ct/kWh = 0.74305 → 0.74; base 12 EUR × 12 × 2.123 / 2500 = 0.1223 → 0.12; gross 0.86."""
    amounts = compute(Decimal("2.123"), Decimal("2500"), TARIFF, small_business=False)
    assert amounts.as_json() == {
        "currency": "EUR",
        "energyGross": "0.74",
        "baseGross": "0.12",
        "net": "0.72",
        "vat": "0.14",
        "gross": "0.86",
        "vatRate": "0.19",
    }


def test_cents_are_rounded_half_up() -> None:
    # 1.5 kWh at 33 ct = 0.495 → 0.50 (half up, not banker's 0.50/0.49)
    assert compute(Decimal("1.5"), Decimal("1e9"), Tariff(Decimal("33"), Decimal("0")), small_business=True).gross == (
        Decimal("0.50")
    )


def test_every_missing_mandatory_field_is_named_in_order() -> None:
    assert read_input({"tx_energy": "1"}) == Missing(tuple(n for n in MANDATORY if n != "tx_energy"))
    assert read_input({**COMPLETE, "buyer_name": "  "}) == Missing(("buyer_name",))


def test_numbers_may_be_strings_and_energy_and_duration_may_be_derived() -> None:
    derived = {k: v for k, v in COMPLETE.items() if k not in ("tx_energy", "tx_duration")}
    found = read_input(
        {**derived, "startKWH": "1234.506", "endKWH": "1235.678", "startTime": 1624607242361, "endTime": 1624610856393}
    )
    assert isinstance(found, ReceiptInput)
    assert found.tx_energy == Decimal("1.172")
    assert found.tx_duration == Decimal("60")  # 3614032 ms → 60 whole minutes
    assert read_input({**COMPLETE, "tx_energy": 2.5, "tx_date": "2021-08-22T10:15"}).tx_date.isoformat() == (  # type: ignore[union-attr]
        "2021-08-22T10:15:00+00:00"
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tx_energy", "zwei", "$.tx_energy: expected a number, got 'zwei'"),
        ("tx_energy", "0", "$.tx_energy: expected a number > 0"),
        ("tx_duration", -1, "$.tx_duration: expected a number >= 0"),
        ("seller_yrconsumption", "NaN", "$.seller_yrconsumption: expected a number"),
        ("seller_email", "kein-at", "$.seller_email: expected an e-mail address"),
        ("seller_zipcode", "1234", "$.seller_zipcode: expected a German postcode (5 digits)"),
        ("tx_date", "gestern", "$.tx_date: expected YYYY-MM-DDTHH:MM or ISO 8601"),
        ("seller_small_business", "vielleicht", "$.seller_small_business: expected true or false"),
    ],
)
def test_a_wrong_value_is_named_with_what_was_expected(field: str, value: object, message: str) -> None:
    found = read_input({**COMPLETE, field: value})
    assert isinstance(found, list)
    assert any(message in str(v) for v in found), found


def test_process_data_puts_the_gross_amount_in_its_vat_class() -> None:
    assert process_data(Decimal("5.93"), exempt=False) == "Beleg^5.93_0.00_0.00_0.00_0.00^5.93:Unbar"
    assert process_data(Decimal("5.93"), exempt=True) == "Beleg^0.00_0.00_0.00_0.00_5.93^5.93:Unbar"


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [
        ("seller_yrconsumption", "0.5", ">= 1 and <= 1000000000"),
        ("tx_energy", "1000001", "> 0 and <= 1000000"),
        ("tx_duration", "10000001", ">= 0 and <= 10000000"),
    ],
)
def test_numbers_outside_their_range_are_named_with_the_range(field: str, value: str, bound: str) -> None:
    found = read_input({**COMPLETE, field: value})
    assert isinstance(found, list)
    assert [str(v) for v in found] == [f"$.{field}: expected a number {bound}, got '{value}'"]
