"""The issued receipt as a PDF a person accepts as a receipt (Kleinbetragsrechnung, KassenSichV §6 content):
seller, buyer, date, energy and duration, net/VAT/gross, the receipt number, the TSE block in clear text and a QR
code of the signed DSFinV-K payload; the ZUGFeRD XML is embedded as Factur-X attachment (drafthorse)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import segno
from drafthorse.pdf import attach_xml
from fpdf import FPDF

from pruefstand.mock_server.flows.quittung.zugferd import invoice_xml

# DejaVu Sans (Bitstream Vera licence, fonts/LICENSE-DejaVu.txt): names in any Latin, Greek or Cyrillic script and the
# euro sign print as written; the PDF core fonts know Latin-1 only.
FONTS = Path(__file__).parent / "fonts"


def receipt_pdf(receipt: Mapping[str, Any]) -> bytes:
    fields, amounts, tse, ks = receipt["input"], receipt["amounts"], receipt["tse"], receipt["kassensichv"]
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(f"Strom-Quittung {receipt['token']}")
    pdf.set_author(fields["seller_name"])
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, "Strom-Quittung", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.cell(0, 6, f"Belegnummer: {receipt['token']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Ausstellungsdatum: {_when(receipt['issuedAt'])}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _pairs(
        pdf,
        [
            ("Verkäufer", fields["seller_name"]),
            ("", f"{fields['seller_zipcode']} Deutschland, {fields['seller_email']}"),
            ("Käufer", fields["buyer_name"]),
            ("Lieferung", f"Elektrische Energie, {_decimal_de(fields['tx_energy'])} kWh"),
            ("Dauer", f"{_decimal_de(fields['tx_duration'])} Minuten"),
            ("Zeitpunkt", _when(fields.get("tx_date") or tse["data"]["end"])),
        ],
    )
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, "Betrag", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    rate = f"{float(amounts['vatRate']) * 100:.0f} %"
    _pairs(
        pdf,
        [
            ("Energie (brutto)", _euro(amounts["energyGross"])),
            ("Grundpreis anteilig (brutto)", _euro(amounts["baseGross"])),
            ("Nettobetrag", _euro(amounts["net"])),
            (f"Umsatzsteuer {rate}", _euro(amounts["vat"])),
            ("Gesamtbetrag (brutto)", _euro(amounts["gross"])),
        ],
    )
    if amounts.get("note"):
        pdf.multi_cell(0, 6, amounts["note"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, "TSE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    qr_top = pdf.get_y()
    _pairs(
        pdf,
        [
            ("TSE-Transaktion", str(tse["data"]["txcnt"])),
            ("TSE-Signaturzähler", str(tse["data"]["signaturecnt"])),
            ("TSE-Start", ks["startTime"]),
            ("TSE-Stop", ks["logTime"]),
            ("TSE-Seriennummer", ks["serialNumber"]),
            ("Kassen-Seriennummer", tse["data"]["clientid"]),
            ("TSE-Zeitformat", ks["logTimeFormat"]),
            ("TSE-Hashalgorithmus", ks["sigAlg"]),
        ],
        width=35,
        value_width=95,
    )
    pdf.multi_cell(120, 4, f"TSE-Signatur: {ks['signature']}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(120, 4, f"TSE-PublicKey: {tse['publickey']}", new_x="LMARGIN", new_y="NEXT")
    image = io.BytesIO()
    segno.make(ks["qrCodeData"], error="m").save(image, kind="png", scale=4, border=2)
    pdf.image(image, x=150, y=qr_top, w=50, h=50)
    pdf.ln(4)
    pdf.set_font("DejaVu", size=7)
    pdf.multi_cell(0, 4, "Erstellt mit pruefstand, der Testumgebung für Strom-Quittungen.")
    return bytes(attach_xml(bytes(pdf.output()), invoice_xml(receipt), level="EN 16931"))


def _pairs(pdf: FPDF, rows: list[tuple[str, str]], width: float = 55, value_width: float = 0) -> None:
    """Label and value side by side; the value wraps within `value_width` (0: to the right margin)."""
    for label, value in rows:
        pdf.cell(width, 5 if value_width else 6, label)
        pdf.multi_cell(value_width, 5 if value_width else 6, value, new_x="LMARGIN", new_y="NEXT")


def _decimal_de(number: str) -> str:
    """German decimal comma: 2.123 → 2,123."""
    return number.replace(".", ",")


def _euro(amount: str) -> str:
    return f"{_decimal_de(amount)} €"


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace(".000Z", " UTC").replace("Z", " UTC")
