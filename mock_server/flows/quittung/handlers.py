"""HTTP handlers of the Strom-Quittung API, bound by operationId: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Any

from pruefstand.mock_server.flows.quittung.render_calls import invoice_xml, receipt_pdf
from pruefstand.mock_server.flows.quittung.rendered import RenderedDocuments
from pruefstand.mock_server.flows.quittung.service import MissingFields, ReceiptService
from pruefstand.mock_server.kernel.call import Call

Answer = tuple[Any, int, dict[str, str]]
JSON = {"Content-Type": "application/json"}


def _account(query: str | None, body: dict[str, Any] | None, *aliases: str) -> str | None:
    """The account code from the query, else from the body (`account`, or an alias such as `preperation`)."""
    if query:
        return query
    for name in ("account", *aliases):
        value = (body or {}).get(name)
        if isinstance(value, str) and value:
            return value
    return None


class ReceiptHandlers:
    def __init__(self, receipts: ReceiptService) -> None:
        self._receipts = receipts
        self._rendered = RenderedDocuments()

    def close(self) -> None:
        """The render process goes with the app."""
        self._rendered.close()

    def operations(self) -> dict[str, Any]:
        return {
            "quittungPrepare": self.prepare,
            "quittungComit": self.commit,
            "quittungCreate": self.create,
            "quittungTSE": self.tse,
            "quittungTSEData": self.tse_data,
            "quittungTSEsignature": self.tse_signature,
            "quittungZugferd": self.zugferd,
            "quittungPdf": self.pdf,
            "quittungReceipt": self.receipt,
            "quittungVerify": self.verify,
            "quittungPublicKey": self.public_key,
        }

    async def prepare(self, call: Call, body: dict[str, Any] | None = None, account: str | None = None) -> Answer:
        found = self._receipts.prepare(call.sandbox, _account(account, body), body or {})
        return found, 200, JSON

    async def commit(
        self, call: Call, body: dict[str, Any] | None = None, account: str | None = None, preperation: str | None = None
    ) -> Answer:
        code = _account(account or preperation, body, "preperation")
        try:
            return self._receipts.commit(call.sandbox, code, body or {}), 200, JSON
        except MissingFields as missing:  # strict mode: the documented body, with 422
            return missing.body, 422, JSON

    async def create(self, call: Call, body: dict[str, Any]) -> Answer:
        try:
            return self._receipts.create(call.sandbox, body), 200, JSON
        except MissingFields as missing:
            return missing.body, 422, JSON

    async def tse(self, call: Call, account: str) -> Answer:
        return self._receipts.receipt(call.sandbox, account)["tse"], 200, JSON

    async def tse_data(self, call: Call, account: str) -> Answer:
        return self._receipts.receipt(call.sandbox, account)["tse"]["raw"], 200, JSON

    async def tse_signature(self, call: Call, account: str) -> Answer:
        return self._receipts.receipt(call.sandbox, account)["tse"]["signature"], 200, JSON

    async def zugferd(self, call: Call, account: str) -> Answer:
        receipt = self._receipts.receipt(call.sandbox, account)
        xml = await self._rendered.get("zugferd", call.sandbox, receipt, invoice_xml)
        return xml, 200, {"Content-Type": "application/xml"}

    async def pdf(self, call: Call, token: str) -> Answer:
        receipt = self._receipts.receipt(call.sandbox, token)
        document = await self._rendered.get("pdf", call.sandbox, receipt, receipt_pdf)
        disposition = f'inline; filename="{token}.stromquittung.pdf"'
        return document, 200, {"Content-Type": "application/pdf", "Content-Disposition": disposition}

    async def receipt(self, call: Call, token: str) -> Answer:
        return self._receipts.receipt(call.sandbox, token), 200, JSON

    async def verify(self, call: Call, body: dict[str, Any] | None = None, token: str | None = None) -> Answer:
        return self._receipts.verify(call.sandbox, {**({"token": token} if token else {}), **(body or {})}), 200, JSON

    async def public_key(self, call: Call) -> Answer:
        return self._receipts.public_key(call.sandbox), 200, JSON
