"""The issued receipt as a document: the TSE record's signed data (Corrently's `data`, with what the receipt says)
and the stored receipt with its amounts, TSE record and KassenSichV block. Pure: the service signs and stores."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pruefstand.mock_server.flows.quittung import kassensichv
from pruefstand.mock_server.flows.quittung.amounts import Amounts
from pruefstand.mock_server.flows.quittung.fields import SMALL_INVOICE_LIMIT, ReceiptInput


@dataclass(frozen=True, slots=True)
class Issue:
    """One issuing: the receipt number, the account it came from, when, and the signing unit's identity."""

    token: str
    account: str
    issued_at: str
    tx: kassensichv.Transaction
    tse_serial_hex: str
    public_key_b64: str


def canonical(data: Mapping[str, Any]) -> str:
    """The exact string the TSE record's signature covers: compact JSON in the data's own key order."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def signed_data(issue: Issue, found: ReceiptInput, amounts: Amounts) -> dict[str, Any]:
    """Corrently's TSE `data` (txcnt … algorithmus; serialnumber is the receipt number) plus what the receipt says,
    so the signature covers the process data, energy, duration and gross amount too."""
    tx = issue.tx
    return {
        "txcnt": tx.transaction_number,
        "start": kassensichv.iso_ms(tx.start),
        "end": kassensichv.iso_ms(tx.log_time),
        "serialnumber": issue.token,
        "clientid": tx.client_id,
        "signaturecnt": tx.signature_counter,
        "timeformat": kassensichv.LOG_TIME_FORMAT,
        "algorithmus": kassensichv.SIG_ALG,
        "tseSerialnumber": issue.tse_serial_hex,
        "processType": tx.process_type,
        "processData": tx.process_data,
        "tx_energy": str(found.tx_energy),
        "tx_duration": str(found.tx_duration),
        "gross": str(amounts.gross),
    }


def receipt_document(
    issue: Issue,
    fields: Mapping[str, Any],
    found: ReceiptInput,
    amounts: Amounts,
    record: Mapping[str, Any],
    qr_signature: str,
) -> dict[str, Any]:
    """The receipt as stored and served by `/quittung/receipt`: the collected fields, the checked input, the
    amounts, the TSE record and the KassenSichV block with its signed QR payload."""
    tx = issue.tx
    return {
        "token": issue.token,
        "account": issue.account,
        "issuedAt": issue.issued_at,
        "fields": dict(fields),
        "input": {
            "seller_name": found.seller_name,
            "seller_email": found.seller_email,
            "seller_zipcode": found.seller_zipcode,
            "seller_yrconsumption": str(found.seller_yrconsumption),
            "buyer_name": found.buyer_name,
            "tx_energy": str(found.tx_energy),
            "tx_duration": str(found.tx_duration),
            **({"tx_date": found.tx_date.isoformat()} if found.tx_date else {}),
            **{name: getattr(found, name) for name in INVOICE_FIELDS if getattr(found, name) is not None},
        },
        # the one delivery date, in the PDF and in the XML: tx_date when given, else the end of the TSE transaction
        "deliveredAt": found.tx_date.isoformat() if found.tx_date else kassensichv.iso_ms(tx.log_time),
        "invoice": _invoice(found, amounts),
        "amounts": amounts.as_json(),
        "tse": dict(record),
        "kassensichv": {
            "qrCodeData": kassensichv.qr_code_data(tx, qr_signature, issue.public_key_b64),
            "processType": tx.process_type,
            "processData": tx.process_data,
            "transactionNumber": tx.transaction_number,
            "signatureCounter": tx.signature_counter,
            "startTime": kassensichv.iso_ms(tx.start),
            "logTime": kassensichv.iso_ms(tx.log_time),
            "sigAlg": kassensichv.SIG_ALG,
            "logTimeFormat": kassensichv.LOG_TIME_FORMAT,
            "serialNumber": issue.tse_serial_hex,
            "signature": qr_signature,
            "publicKey": issue.public_key_b64,
        },
    }


INVOICE_FIELDS = (
    "seller_street",
    "seller_city",
    "seller_country",
    "seller_vatid",
    "seller_taxnumber",
    "buyer_street",
    "buyer_zipcode",
    "buyer_city",
    "buyer_country",
)


def _invoice(found: ReceiptInput, amounts: Amounts) -> dict[str, Any]:
    """Whether the receipt is also a valid invoice (§ 14 UStG; up to 250 € a Kleinbetragsrechnung, § 33 UStDV) and
    an EN 16931 one, and if not, which fields it lacks."""
    missing = found.invoice_missing(amounts.gross)
    kind = "Kleinbetragsrechnung (§ 33 UStDV)" if amounts.gross <= SMALL_INVOICE_LIMIT else "Rechnung (§ 14 UStG)"
    return {"kind": kind, "valid": not missing, "missing": missing}
