"""A receipt's renders by name, importing the document libraries (fpdf2 with fontTools and Pillow, drafthorse: about
50 MiB) only where a document is rendered: in a worker's render process (rendered.py), not in every serving worker
and not in the supervisor. The render process finds these functions by module and name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def receipt_pdf(receipt: Mapping[str, Any]) -> bytes:
    from pruefstand.mock_server.flows.quittung.pdf import receipt_pdf as render

    return render(receipt)


def invoice_xml(receipt: Mapping[str, Any]) -> bytes:
    from pruefstand.mock_server.flows.quittung.zugferd import invoice_xml as render

    return render(receipt)
