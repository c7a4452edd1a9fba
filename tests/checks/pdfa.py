"""A PDF/A-3B check with what installs here (pikepdf on qpdf; veraPDF is Java and not part of the project): the
clauses of ISO 19005-3 a generated receipt can break, each checked on the file's objects, plus the Factur-X 1.0
metadata. Returns the problems, one line each, naming the clause; empty means conforming on every clause checked."""

from __future__ import annotations

import io
import re

import pikepdf
from lxml import etree

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


def pdfa3b_problems(data: bytes, *, xml_name: str = "factur-x.xml", level: str = "EN 16931") -> list[str]:
    problems: list[str] = []
    header, _, rest = data.partition(b"\n")
    if not re.fullmatch(rb"%PDF-1\.[4-7]", header.strip()):
        problems.append(f"6.1.2 file header: {header[:10]!r}")
    comment = rest.split(b"\n", 1)[0]
    if not (comment.startswith(b"%") and sum(b > 127 for b in comment[1:5]) == 4):
        problems.append("6.1.2 the header is not followed by a comment of four bytes above 127")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        problems += [f"qpdf syntax: {p}" for p in pdf.check_pdf_syntax()]
        if pdf.is_encrypted:
            problems.append("6.1.3 the file is encrypted")
        trailer_id = pdf.trailer.get("/ID")
        if not isinstance(trailer_id, pikepdf.Array) or len(trailer_id) != 2:
            problems.append("6.1.3 the trailer has no /ID")
        root = pdf.Root
        problems += _output_intent(root)  # type: ignore[arg-type]
        problems += _metadata(pdf, xml_name, level)
        problems += _fonts(pdf)
        problems += _attachments(root, xml_name)  # type: ignore[arg-type]
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                if obj.get("/S") in (pikepdf.Name.JavaScript, pikepdf.Name.Launch):
                    problems.append(f"6.6.1 forbidden action {obj.get('/S')}")
                if isinstance(obj, pikepdf.Stream) and pikepdf.Name.LZWDecode in _filters(obj):
                    problems.append("6.1.7 LZW-compressed stream")
        if "/JavaScript" in (root.get("/Names") or {}):
            problems.append("6.6.1 document-level JavaScript")
    return problems


def _output_intent(root: pikepdf.Dictionary) -> list[str]:
    intents = [i for i in root.get("/OutputIntents", []) if i.get("/S") == pikepdf.Name.GTS_PDFA1]
    if len(intents) != 1:
        return [f"6.2.3 expected one GTS_PDFA1 output intent, found {len(intents)}"]
    profile = intents[0].get("/DestOutputProfile")
    if not isinstance(profile, pikepdf.Stream) or int(profile.get("/N", 0)) != 3:
        return ["6.2.3 the output intent has no RGB ICC profile (DestOutputProfile with /N 3)"]
    if profile.read_bytes()[36:40] != b"acsp":
        return ["6.2.3 the DestOutputProfile is not an ICC profile"]
    return []


def _metadata(pdf: pikepdf.Pdf, xml_name: str, level: str) -> list[str]:
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return ["6.6.2.1 no XMP metadata stream in the catalog"]
    try:
        xmp = etree.fromstring(stream.read_bytes())
    except etree.XMLSyntaxError as exc:
        return [f"6.6.2.1 the XMP metadata is not well-formed: {exc}"]
    found: list[str] = []

    def value(path: str) -> str | None:
        hits = xmp.xpath(f"//rdf:Description/{path}", namespaces=NS)
        return str(hits[0].text if hasattr(hits[0], "text") else hits[0]).strip() if hits else None

    if value("pdfaid:part") != "3" or value("pdfaid:conformance") != "B":
        found.append(f"6.6.4 pdfaid part/conformance is {value('pdfaid:part')}/{value('pdfaid:conformance')}, not 3/B")
    expected = {"fx:DocumentFileName": xml_name, "fx:ConformanceLevel": level, "fx:DocumentType": "INVOICE"}
    for key, wanted in expected.items():
        if value(key) != wanted:
            found.append(f"Factur-X 1.0 XMP {key} is {value(key)!r}, not {wanted!r}")
    schemas = {s.text for s in xmp.xpath("//pdfaSchema:namespaceURI", namespaces=NS)}
    if NS["fx"] not in schemas:
        found.append("6.6.2.3.3 the fx namespace is used without a PDF/A extension schema")
    info = pdf.trailer.get("/Info")
    if isinstance(info, pikepdf.Dictionary) and "/Title" in info:
        title = value("dc:title/rdf:Alt/rdf:li")
        if str(info.Title) != title:
            found.append(f"6.6.3 Info /Title {str(info.Title)!r} differs from dc:title {title!r}")
    return found


def _fonts(pdf: pikepdf.Pdf) -> list[str]:
    found: list[str] = []
    for number, page in enumerate(pdf.pages, 1):
        for name, font in (page.Resources.get("/Font") or {}).items():
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                found.append(f"6.2.11.4.1 font {name} ({font.get('/BaseFont')}) on page {number} is not embedded")
    return found


def _attachments(root: pikepdf.Dictionary, xml_name: str) -> list[str]:
    names = list((root.get("/Names") or {}).get("/EmbeddedFiles", {}).get("/Names", []))  # type: ignore[call-overload]
    specs = dict(zip(map(str, names[0::2]), names[1::2], strict=True))
    if xml_name not in specs:
        return [f"Factur-X: no embedded file {xml_name} (found {sorted(specs)})"]
    found: list[str] = []
    associated = list(root.get("/AF", []))
    for name, spec in specs.items():
        if spec.get("/AFRelationship") is None:
            found.append(f"6.8 embedded file {name} has no /AFRelationship")
        if str(spec.get("/UF", "")) != name or str(spec.get("/F", "")) != name:
            found.append(f"6.8 embedded file {name} lacks /F and /UF")
        stream = spec.get("/EF", {}).get("/F")
        if not isinstance(stream, pikepdf.Stream) or "/Subtype" not in stream:
            found.append(f"6.8 embedded file {name} has no MIME type (/Subtype)")
        elif "/ModDate" not in stream.get("/Params", {}):
            found.append(f"6.8 embedded file {name} has no /Params /ModDate")
        if not any(a.objgen == spec.objgen for a in associated):
            found.append(f"6.8 embedded file {name} is not in the catalog's /AF array")
    if specs[xml_name].get("/AFRelationship") not in (pikepdf.Name.Alternative, pikepdf.Name.Data):
        found.append(f"Factur-X: {xml_name} must be related as /Alternative or /Data")
    return found


def _filters(stream: pikepdf.Stream) -> list[pikepdf.Name]:
    value = stream.get("/Filter")
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]  # type: ignore[arg-type, list-item]
