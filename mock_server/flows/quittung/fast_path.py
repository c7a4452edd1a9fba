"""Strom-Quittung's create answered in front of connexion in the plain case (http/fast_path.py): the receipt issued
as the handler issues it, in one transaction (shared with the writes that arrive meanwhile), answered with its number
(or, with mandatory fields missing, the documented `{err, missing, account}`) as connexion serialises it. A
preference, a query or a fault go the normal way, and so does every refusal."""

from __future__ import annotations

from pruefstand.contracts import SchemaValidator, Spec
from pruefstand.mock_server.flows.mounting import FastPath
from pruefstand.mock_server.flows.quittung.service import ReceiptService

_JSON = "application/json"


def receipt_creation(receipts: ReceiptService, spec: Spec, path: str) -> FastPath:
    operation = spec.operation("quittungCreate")
    return FastPath(
        path=path,
        body_violations=SchemaValidator(operation["requestBody"]["content"][_JSON]["schema"]).violations,
        answer_violations=SchemaValidator(operation["responses"]["200"]["content"][_JSON]["schema"]).violations,
        prepare=receipts.prepare_create,
        apply=receipts.apply_create,
        declined=frozenset({"prefer"}),
        takes_query=False,
        status=200,
    )
