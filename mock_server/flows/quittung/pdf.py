"""The issued receipt as a PDF/A-3B a person accepts as a receipt (Kleinbetragsrechnung, KassenSichV §6 content) and
a machine reads as a Factur-X invoice: seller and buyer with their addresses, the delivery date, energy and duration,
net/VAT/gross, the receipt number, the TSE block and a QR code of the signed DSFinV-K payload; the ZUGFeRD XML is
embedded as `factur-x.xml` (associated file, relationship Alternative) and described in the XMP metadata.

fpdf2 writes it in PDF/A-3B mode (sRGB output intent, embedded fonts, no encryption). The same receipt always gives
the same bytes: every date in the document is the issue time, and the file identifier is derived from the content.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF

from pruefstand.mock_server.flows.quittung.zugferd import delivery_day, invoice_xml

# DejaVu Sans (Bitstream Vera licence, fonts/LICENSE-DejaVu.txt): names in any Latin, Greek or Cyrillic script and the
# euro sign print as written; the PDF core fonts know Latin-1 only (and PDF/A wants every font embedded).
FONTS = Path(__file__).parent / "fonts"
GERMAN = ZoneInfo("Europe/Berlin")
PRODUCER = "pruefstand (fpdf2)"
XML_NAME = "factur-x.xml"
LABEL_WIDTH = 55


def receipt_pdf(receipt: Mapping[str, Any]) -> bytes:
    fields, amounts, tse, ks = receipt["input"], receipt["amounts"], receipt["tse"], receipt["kassensichv"]
    issued = _instant(receipt["issuedAt"])
    title = f"Strom-Quittung {receipt['token']}"
    pdf = FPDF(format="A4", enforce_compliance="PDF/A-3B")
    pdf.set_creation_date(issued)
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_title(title)
    pdf.set_author(fields["seller_name"])
    pdf.set_lang("de-DE")
    pdf.set_xmp_metadata(_xmp(title, fields["seller_name"], issued))
    pdf.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, "Strom-Quittung", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    _pairs(pdf, [("Belegnummer", receipt["token"]), ("Ausstellungsdatum", _german(issued))])
    pdf.ln(3)
    _pairs(pdf, [("Verkäufer", "\n".join(_seller_lines(fields))), ("Käufer", "\n".join(_buyer_lines(fields)))])
    pdf.ln(3)
    delivered = delivery_day(receipt)
    _pairs(
        pdf,
        [
            ("Lieferung", f"Elektrische Energie, {_decimal_de(fields['tx_energy'])} kWh"),
            ("Dauer", f"{_decimal_de(fields['tx_duration'])} Minuten"),
            ("Lieferdatum", _german(delivered)),
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
        pdf.multi_cell(0, 6, amounts["note"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, "TSE (Zeiten in UTC, wie die TSE sie signiert)", new_x="LMARGIN", new_y="NEXT")
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
        height=5,
    )
    pdf.multi_cell(130, 4, f"TSE-Signatur: {ks['signature']}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(130, 4, f"TSE-PublicKey: {tse['publickey']}", align="L", new_x="LMARGIN", new_y="NEXT")
    image = io.BytesIO()
    segno.make(ks["qrCodeData"], error="m").save(image, kind="png", scale=4, border=2)
    pdf.image(image, x=150, y=qr_top, w=50, h=50)
    pdf.ln(4)
    pdf.set_font("DejaVu", size=7)
    pdf.multi_cell(0, 4, "Erstellt mit pruefstand, der Testumgebung für Strom-Quittungen.", align="L")
    pdf.embed_file(
        bytes=invoice_xml(receipt),
        basename=XML_NAME,
        desc="Factur-X/ZUGFeRD invoice (EN 16931)",
        mime_type="text/xml",
        associated_file_relationship="Alternative",
        creation_date=issued,
        modification_date=issued,
    )
    return bytes(pdf.output())


def _seller_lines(fields: Mapping[str, Any]) -> list[str]:
    lines = [fields["seller_name"]]
    if fields.get("seller_street"):
        lines.append(fields["seller_street"])
    lines.append(" ".join(p for p in (fields["seller_zipcode"], fields.get("seller_city")) if p))
    if fields.get("seller_country", "DE") != "DE":
        lines.append(fields["seller_country"])
    lines.append(fields["seller_email"])
    if fields.get("seller_vatid"):
        lines.append(f"USt-IdNr.: {fields['seller_vatid']}")
    if fields.get("seller_taxnumber"):
        lines.append(f"Steuernummer: {fields['seller_taxnumber']}")
    return lines


def _buyer_lines(fields: Mapping[str, Any]) -> list[str]:
    lines = [fields["buyer_name"]]
    if fields.get("buyer_street"):
        lines.append(fields["buyer_street"])
    place = " ".join(p for p in (fields.get("buyer_zipcode"), fields.get("buyer_city")) if p)
    if place:
        lines.append(place)
    if fields.get("buyer_country", "DE") != "DE":
        lines.append(fields["buyer_country"])
    return lines


def _pairs(
    pdf: FPDF, rows: list[tuple[str, str]], width: float = LABEL_WIDTH, value_width: float = 0, height: float = 6
) -> None:
    """Label and value side by side; the value is left-aligned (never justified) and wraps at spaces within
    `value_width` (0: to the right margin), one line per line of the value."""
    for label, value in rows:
        pdf.cell(width, height, label)
        pdf.multi_cell(value_width, height, value, align="L", new_x="LMARGIN", new_y="NEXT")


def _xmp(title: str, author: str, issued: datetime) -> str:
    """XMP with the PDF/A identification and the Factur-X extension schema (Factur-X 1.0, §A: document type, file
    name, version and conformance level of the embedded XML); every date is the issue time."""
    when = issued.isoformat(timespec="seconds")
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
      <pdfaid:part>3</pdfaid:part>
      <pdfaid:conformance>B</pdfaid:conformance>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
      <dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>
      <dc:language><rdf:Bag><rdf:li>de-DE</rdf:li></rdf:Bag></dc:language>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
      <xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>
      <xmp:CreateDate>{when}</xmp:CreateDate>
      <xmp:ModifyDate>{when}</xmp:ModifyDate>
      <xmp:MetadataDate>{when}</xmp:MetadataDate>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
      <pdf:Producer>{PRODUCER}</pdf:Producer>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
      <fx:DocumentType>INVOICE</fx:DocumentType>
      <fx:DocumentFileName>{XML_NAME}</fx:DocumentFileName>
      <fx:Version>1.0</fx:Version>
      <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
        xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
      <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
        <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
        <pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>
        <pdfaSchema:prefix>fx</pdfaSchema:prefix>
        <pdfaSchema:property><rdf:Seq>
          {_property("DocumentFileName", "name of the embedded XML invoice file")}
          {_property("DocumentType", "INVOICE")}
          {_property("Version", "the actual version of the Factur-X XML schema")}
          {_property("ConformanceLevel", "the conformance level of the embedded Factur-X data")}
        </rdf:Seq></pdfaSchema:property>
      </rdf:li></rdf:Bag></pdfaExtension:schemas>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>"""


def _property(name: str, description: str) -> str:
    return (
        '<rdf:li rdf:parseType="Resource"><pdfaProperty:name>'
        f"{name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
    )


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _german(moment: datetime) -> str:
    """One date format for people: German time, `01.12.2026, 11:40 Uhr (MEZ)`."""
    local = moment.astimezone(GERMAN)
    return f"{local:%d.%m.%Y, %H:%M} Uhr ({'MESZ' if local.dst() else 'MEZ'})"


def _decimal_de(number: str) -> str:
    """German decimal comma: 2.123 → 2,123."""
    return number.replace(".", ",")


def _euro(amount: str) -> str:
    return f"{_decimal_de(amount)} €"
