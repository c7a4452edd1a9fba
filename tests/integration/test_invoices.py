"""Strom-Quittung receipts as invoices, across the option space (VAT or § 19 exemption, small and large amounts, VAT
ID or tax number, long names, with and without tx_date): the ZUGFeRD XML passes the official Factur-X / EN 16931
Schematron with 0 failures, the PDF passes the PDF/A-3B check, both show the one delivery date, and the same receipt
gives the same bytes every time."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader
from starlette.testclient import TestClient

from tests.checks.en16931 import schematron_failures
from tests.checks.pdfa import pdfa3b_problems

Q = "/v2.0/quittung"
CII = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
BASE = {
    "seller_name": "Maxima Ladesäulia",
    "seller_email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_street": "Ladestraße 1",
    "seller_city": "Musterstadt",
    "seller_yrconsumption": 2500,
    "buyer_name": "Ludwig von Auto GmbH",
    "buyer_street": "Autoweg 7",
    "buyer_zipcode": "54321",
    "buyer_city": "Fahrstadt",
    "tx_duration": 25,
}
LONG = "Stadtwerke " + "Ladeinfrastruktur-und-Elektromobilitätsdienstleistungen " * 3


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for vat, amount, identity, names, date in itertools.product(
        ("vat", "exempt"), ("small", "large"), ("vatid", "taxnumber"), ("short", "long"), ("tx_date", "no_date")
    ):
        body = {**BASE, "tx_energy": 2.123 if amount == "small" else 1234.5}
        body["seller_small_business"] = vat == "exempt"
        body["seller_vatid" if identity == "vatid" else "seller_taxnumber"] = (
            "DE123456789" if identity == "vatid" else "21/815/08150"
        )
        if names == "long":
            body.update(seller_name=LONG[:200], buyer_name=LONG[:199] + "X", seller_street=LONG[:120] + " 12")
        if date == "tx_date":
            body["tx_date"] = "2025-12-31T22:30"
        cases.append(("-".join((vat, amount, identity, names, date)), body))
    return cases


CASES = _cases()


def issue(client: TestClient, body: dict[str, Any]) -> str:
    answer = client.post(f"{Q}/create", json=body)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert isinstance(token, str), token
    return token


@pytest.mark.parametrize("body", [b for _, b in CASES], ids=[name for name, _ in CASES])
def test_every_receipt_is_a_valid_factur_x_invoice_in_a_pdf_a_3b(client: TestClient, body: dict[str, Any]) -> None:
    token = issue(client, body)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert receipt["invoice"] == {"kind": receipt["invoice"]["kind"], "valid": True, "missing": []}
    xml = client.get(f"{Q}/zugferd", params={"account": token}).content
    assert schematron_failures(xml) == []
    pdf = client.get(f"{Q}/pdf", params={"token": token}).content
    assert pdfa3b_problems(pdf) == []
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        embedded = opened.attachments["factur-x.xml"].get_file().read_bytes()
    assert embedded == xml
    # one delivery date: the XML's and the PDF's are the same day (German time)
    [stamp] = etree.fromstring(xml).xpath("//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString/text()",
                                          namespaces=CII)  # fmt: skip
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"Lieferdatum {stamp[6:8]}.{stamp[4:6]}.{stamp[:4]}" in " ".join(text.split())
    if "tx_date" in body:
        assert stamp == "20251231"  # 22:30 UTC is still 31 December in Germany (23:30 MEZ)
    # the same receipt, the same bytes
    assert client.get(f"{Q}/pdf", params={"token": token}).content == pdf
    assert client.get(f"{Q}/zugferd", params={"account": token}).content == xml


def test_a_receipt_without_invoice_fields_says_what_it_lacks(client: TestClient) -> None:
    body = {k: v for k, v in BASE.items() if not k.startswith(("buyer_street", "buyer_zip", "buyer_city"))}
    small = issue(client, {**{k: v for k, v in body.items() if k not in ("seller_street",)}, "tx_energy": 2})
    assert client.get(f"{Q}/receipt", params={"token": small}).json()["invoice"] == {
        "kind": "Kleinbetragsrechnung (§ 33 UStDV)",
        "valid": False,
        "missing": ["seller_street", "seller_vatid or seller_taxnumber"],
    }
    large = issue(client, {**body, "seller_vatid": "DE123456789", "tx_energy": 1500})
    assert client.get(f"{Q}/receipt", params={"token": large}).json()["invoice"] == {
        "kind": "Rechnung (§ 14 UStG)",
        "valid": False,
        "missing": ["buyer_street", "buyer_zipcode", "buyer_city"],
    }
    failures = schematron_failures(client.get(f"{Q}/zugferd", params={"account": small}).content)
    assert any(f.startswith("BR-CO-26") for f in failures)  # the rule set really judges: it fails what it should


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("tx_date", "2031-01-01T10:00", "the delivery must lie between"),
        ("tx_date", "2015-01-01T10:00", "the delivery must lie between"),
        ("seller_vatid", "DE12345", "expected a VAT ID"),
        ("seller_taxnumber", "12-34", "expected a German tax number"),
        ("buyer_zipcode", "1234", "expected a German postcode"),
        ("buyer_country", "Germany", "expected an ISO 3166-1 alpha-2 country code"),
        ("seller_street", "a\u202eb", "expected a text of 1 to 200 printable characters"),
    ],
)
def test_invoice_fields_and_the_delivery_date_are_checked(
    client: TestClient, field: str, value: str, expected: str
) -> None:
    answer = client.post(f"{Q}/create", json={**BASE, "tx_energy": 2, field: value})
    assert answer.status_code == 400
    assert f"$.{field}: {expected}" in answer.json()["err"]


def test_the_pdf_a_check_finds_what_a_plain_pdf_lacks() -> None:
    from fpdf import FPDF

    plain = FPDF()
    plain.add_page()
    plain.set_font("helvetica", size=12)
    plain.cell(0, 10, "no PDF/A")
    problems = " ".join(pdfa3b_problems(bytes(plain.output())))
    for clause in ("6.2.3", "6.6.2.1", "6.2.11.4.1", "Factur-X: no embedded file"):
        assert clause in problems
