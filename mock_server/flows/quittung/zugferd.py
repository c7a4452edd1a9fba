"""The issued receipt as a ZUGFeRD / Factur-X invoice (UN/CEFACT CII XML, profile EN 16931), built and checked
against the Factur-X schema by drafthorse. Two lines: the energy (kWh) and the pro-rata base price.

With the seller's address and VAT ID or tax number and the buyer's address given (the receipt's `invoice` block says
what is missing), the XML passes the official Factur-X / EN 16931 Schematron (tests/integration/test_invoices.py).
Without a VAT ID the tax number is also the seller identifier (BT-29), which BR-CO-26 asks for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.tradelines import LineItem

from pruefstand.mock_server.flows.quittung.amounts import VAT_RATE, cents

PROFILE = "urn:cen.eu:en16931:2017"
GERMAN = ZoneInfo("Europe/Berlin")


def delivery_day(receipt: Mapping[str, Any]) -> datetime:
    """The delivery date of the receipt in German time (the one date the PDF and the XML show)."""
    return datetime.fromisoformat(str(receipt["deliveredAt"]).replace("Z", "+00:00")).astimezone(GERMAN)


def invoice_xml(receipt: Mapping[str, Any]) -> bytes:
    """CII XML of an issued receipt (as stored by the service); raises if drafthorse finds it schema-invalid."""
    fields, amounts = receipt["input"], receipt["amounts"]
    exempt = Decimal(amounts["vatRate"]) == 0
    rate_percent = Decimal("0.00") if exempt else (VAT_RATE * 100).quantize(Decimal("0.01"))
    category = "E" if exempt else "S"
    gross, net, vat = Decimal(amounts["gross"]), Decimal(amounts["net"]), Decimal(amounts["vat"])
    energy_net = Decimal(amounts["energyGross"]) if exempt else cents(Decimal(amounts["energyGross"]) / (1 + VAT_RATE))
    lines = [
        ("1", "Strom (Ladevorgang)", Decimal(fields["tx_energy"]), "KWH", energy_net),
        ("2", "Grundpreis anteilig", Decimal(1), "C62", net - energy_net),
    ]
    doc = Document()
    doc.context.guideline_parameter.id = PROFILE
    doc.header.id = receipt["token"]
    doc.header.type_code = "380"
    doc.header.issue_date_time = datetime.fromisoformat(receipt["issuedAt"].replace("Z", "+00:00")).date()
    note = IncludedNote()
    note.content = (
        f"TSE-Signatur {receipt['tse']['signature']} (Signaturzähler {receipt['tse']['data']['signaturecnt']})"
    )
    doc.header.notes.add(note)
    if exempt:
        exemption = IncludedNote()
        exemption.content = amounts.get("note", "")
        doc.header.notes.add(exemption)
    seller = doc.trade.agreement.seller
    seller.name = fields["seller_name"]
    if fields.get("seller_taxnumber") and not fields.get("seller_vatid"):
        seller.id = fields["seller_taxnumber"]  # BT-29: BR-CO-26 needs an identifier when there is no VAT ID
    if fields.get("seller_street"):
        seller.address.line_one = fields["seller_street"]
    seller.address.postcode = fields["seller_zipcode"]
    if fields.get("seller_city"):
        seller.address.city_name = fields["seller_city"]
    seller.address.country_id = fields.get("seller_country", "DE")
    seller.electronic_address.uri_ID = ("EM", fields["seller_email"])
    for scheme, key in (("VA", "seller_vatid"), ("FC", "seller_taxnumber")):
        if fields.get(key):
            registration = TaxRegistration()
            registration.id = (scheme, fields[key])
            seller.tax_registrations.add(registration)
    buyer = doc.trade.agreement.buyer
    buyer.name = fields["buyer_name"]
    if fields.get("buyer_street"):
        buyer.address.line_one = fields["buyer_street"]
    if fields.get("buyer_zipcode"):
        buyer.address.postcode = fields["buyer_zipcode"]
    if fields.get("buyer_city"):
        buyer.address.city_name = fields["buyer_city"]
    buyer.address.country_id = fields.get("buyer_country", "DE")
    doc.trade.delivery.event.occurrence = delivery_day(receipt).date()
    settlement = doc.trade.settlement
    settlement.currency_code = "EUR"
    settlement.payment_means.type_code = "ZZZ"
    for line_id, name, quantity, unit, line_net in lines:
        item = LineItem()
        item.document.line_id = line_id
        item.product.name = name
        item.agreement.net.amount = (line_net / quantity).quantize(Decimal("0.0001")) if quantity else line_net
        item.delivery.billed_quantity = (quantity, unit)
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = category
        item.settlement.trade_tax.rate_applicable_percent = rate_percent
        item.settlement.monetary_summation.total_amount = line_net
        doc.trade.items.add(item)
    tax = ApplicableTradeTax()
    tax.calculated_amount = vat
    tax.basis_amount = net
    tax.type_code = "VAT"
    tax.category_code = category
    tax.rate_applicable_percent = rate_percent
    if exempt:
        tax.exemption_reason = "Kleinunternehmer gemäß § 19 UStG"
    settlement.trade_tax.add(tax)
    totals = settlement.monetary_summation
    totals.line_total = net
    totals.charge_total = Decimal("0.00")
    totals.allowance_total = Decimal("0.00")
    totals.tax_basis_total = net
    totals.tax_total = (vat, "EUR")
    totals.grand_total = gross
    totals.due_amount = gross
    xml: bytes = doc.serialize(schema="FACTUR-X_EN16931")
    return xml
