"""The KassenSichV side of a receipt (domain/quittung.md §7): the DSFinV-K QR payload (`V0;…`) and the TR-03151
FinishTransaction log message its signature is made over, DER-encoded with asn1crypto; and their verification with
nothing but the public key. Pure."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PROCESS_TYPE = "Kassenbeleg-V1"
CERTIFIED_DATA_TYPE = "0.4.0.127.0.7.3.7.1.1"
SIG_ALG = "ecdsa-plain-SHA256"
SIG_ALG_OID = "0.4.0.127.0.7.1.1.4.1.3"
LOG_TIME_FORMAT = "utcTime"


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]
    _fields = [("algorithm", core.ObjectIdentifier)]  # noqa: RUF012 (asn1crypto reads this class attribute)


@dataclass(frozen=True, slots=True)
class Transaction:
    """What the QR code carries, besides signature and public key."""

    client_id: str
    process_data: str
    transaction_number: int
    signature_counter: int
    start: datetime
    log_time: datetime
    process_type: str = PROCESS_TYPE


def process_data(gross: Decimal, *, exempt: bool) -> str:
    """`Beleg^<gross by VAT class 19/7/10.7/5.5/0 %>^<payment>`: one non-cash payment of the gross amount."""
    classes = ["0.00"] * 5
    classes[4 if exempt else 0] = f"{gross:.2f}"
    return f"Beleg^{'_'.join(classes)}^{gross:.2f}:Unbar"


def finish_transaction_message(tx: Transaction, serial: bytes) -> bytes:
    """The TR-03151 log message of FinishTransaction: DER elements one after the other, no outer SEQUENCE."""
    parts = [
        core.Integer(2),
        core.ObjectIdentifier(CERTIFIED_DATA_TYPE),
        core.OctetString(b"FinishTransaction", implicit=0),
        core.OctetString(tx.client_id.encode("utf-8"), implicit=1),
        core.OctetString(tx.process_data.encode("utf-8"), implicit=2),
        core.OctetString(tx.process_type.encode("utf-8"), implicit=3),
        core.Integer(tx.transaction_number, implicit=5),
        core.OctetString(serial),
        _AlgorithmIdentifier({"algorithm": SIG_ALG_OID}),
        core.Integer(tx.signature_counter),
        core.UTCTime(tx.log_time.astimezone(UTC)),
    ]
    return b"".join(part.dump() for part in parts)


def qr_code_data(tx: Transaction, signature_b64: str, public_key_b64: str) -> str:
    """The DSFinV-K QR payload, version V0, twelve fields separated by `;`."""
    return ";".join(
        [
            "V0",
            tx.client_id,
            tx.process_type,
            tx.process_data,
            str(tx.transaction_number),
            str(tx.signature_counter),
            iso_ms(tx.start),
            iso_ms(tx.log_time),
            SIG_ALG,
            LOG_TIME_FORMAT,
            signature_b64,
            public_key_b64,
        ]
    )


def verify_qr_code_data(qr: str) -> tuple[bool, str]:
    """Check a V0 payload with the public key it carries: rebuild the signed message from its fields, verify the
    signature. Returns (valid, why)."""
    fields = qr.split(";")
    if len(fields) != 12 or fields[0] != "V0":
        return False, "not a V0 QR payload of 12 fields"
    _, client_id, process_type, data, tx_number, sig_counter, start, log_time, alg, time_format, sig, pub = fields
    if alg != SIG_ALG or time_format != LOG_TIME_FORMAT:
        return False, f"unsupported sig-alg/log-time-format {alg}/{time_format}"
    try:
        point = base64.b64decode(pub, validate=True)
        tx = Transaction(
            client_id=client_id,
            process_data=data,
            transaction_number=int(tx_number),
            signature_counter=int(sig_counter),
            start=parse_iso(start),
            log_time=parse_iso(log_time),
            process_type=process_type,
        )
        message = finish_transaction_message(tx, hashlib.sha256(point).digest())
        return verify_plain_signature(point, message, sig)
    except (ValueError, TypeError) as exc:
        return False, f"malformed field: {exc}"


def verify_plain_signature(point: bytes, message: bytes, signature_b64: str) -> tuple[bool, str]:
    """ECDSA P-256/SHA-256 with a plain r||s signature, against the public key as an uncompressed point."""
    try:
        raw = base64.b64decode(signature_b64, validate=True)
        if len(raw) != 64:
            return False, "signature is not 64 bytes r||s"
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False, "signature does not match the signed data"
    except ValueError as exc:
        return False, f"malformed key or signature: {exc}"
    return True, "signature valid"


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
