"""Strom-Quittung use cases against the store: the draft as a key-value store per account (phase 1), issuing it
atomically and idempotently with a receipt number and a signature (phase 2), after which nothing changes; the TSE
record, the KassenSichV QR payload and their verification."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pruefstand.contracts import Violation
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.flows.quittung import kassensichv
from pruefstand.mock_server.flows.quittung.addresses import new_address
from pruefstand.mock_server.flows.quittung.amounts import Tariff, compute
from pruefstand.mock_server.flows.quittung.fields import CONTROL_KEYS, Missing, ReceiptInput, read_input
from pruefstand.mock_server.flows.quittung.receipt import Issue, canonical, receipt_document, signed_data
from pruefstand.mock_server.flows.quittung.records import DRAFT_KIND, RECEIPT_KIND, DraftRecord, read_draft
from pruefstand.mock_server.flows.quittung.signing_unit import SigningUnit
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, MockError, NotFound
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.store import FlowStore, SandboxUnit, UnitOfWork

ISSUED: Literal["issued"] = "issued"
DRAFT: Literal["draft"] = "draft"


class MissingFields(MockError):
    """Commit in strict mode with mandatory fields missing: 422 with the documented body."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = dict(body)
        super().__init__(f"missing mandatory fields: {', '.join(body['missing'])}")


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A receipt to create in one call, as prepared outside the transaction."""

    sandbox: str
    values: dict[str, Any]
    now: str


@dataclass(frozen=True, slots=True)
class QuittungSettings:
    tariff: Tariff
    client_id: str = "pruefstand-quittung"
    strict: bool = False


class ReceiptService:
    def __init__(
        self, store: FlowStore, clock: Clock, unit: SigningUnit, settings: QuittungSettings, ids: IdSource | None = None
    ) -> None:
        self._ids = ids or IdSource()
        self._store = store
        self._clock = clock
        self._unit = unit
        self._settings = settings

    # phase 1
    def prepare(self, sandbox: str, account: str | None, values: Mapping[str, Any]) -> dict[str, Any]:
        """No account: a new slot with a new account code. With account: the values merged in (last write wins);
        only the account: the stored values read back. An issued account takes no more values (409)."""
        values = _payload(values)
        now = self._now(sandbox)
        with self._store.unit_of_work(sandbox) as uow:
            if account is None:
                draft = self._new_draft(uow, values, now)
            else:
                draft = self._draft(uow, account)
                if draft["status"] == ISSUED and values:
                    raise Conflict(
                        f"account {account} is issued as receipt {draft['token']}; its data cannot change "
                        f"(refused: {', '.join(sorted(values))})"
                    )
                if values:
                    draft = {**draft, "fields": {**draft["fields"], **values}, "updatedAt": now}
                    uow.put(DRAFT_KIND, account, draft)
        return _readback(draft)

    # phase 2
    def commit(self, sandbox: str, account: str | None, values: Mapping[str, Any]) -> str | dict[str, Any]:
        """Issue the receipt from the collected fields plus `values`: the token, or the documented
        `{err, missing, account}` while mandatory fields are missing (the values are kept). Idempotent: an issued
        account answers its token again, unless other values are sent (409). Atomic: one transaction assigns the
        number, counts the counters and stores the receipt."""
        values = _payload(values)
        with self._store.unit_of_work(sandbox) as uow:
            return self._commit(uow, account, values, self._now(sandbox))

    def create(self, sandbox: str, values: Mapping[str, Any]) -> str | dict[str, Any]:
        """prepare + commit in one call; `email` stands for `seller_email`, as in the real service's create."""
        new = self.prepare_create(sandbox, values)
        with self._store.unit_of_work(sandbox) as uow:
            return self._commit(uow, None, new.values, new.now)

    def prepare_create(self, sandbox: str, values: Mapping[str, Any]) -> NewReceipt:
        """`create`'s part that needs no transaction: the values as committed, the time."""
        values = _payload(values)
        if "email" in values and "seller_email" not in values:
            values["seller_email"] = values["email"]
        return NewReceipt(sandbox, values, self._now(sandbox))

    def apply_create(self, uow: UnitOfWork, new: NewReceipt) -> str | dict[str, Any]:
        """`create`'s transaction in a unit of work that may span sandboxes (the fast path's group commit)."""
        return self._commit(SandboxUnit(uow, new.sandbox), None, new.values, new.now)

    def _commit(
        self, uow: SandboxUnit, account: str | None, values: Mapping[str, Any], now: str
    ) -> str | dict[str, Any]:
        known = None if account is None else self._draft(uow, account)
        if known is not None and known["status"] == ISSUED:
            changed = sorted(k for k, v in values.items() if known["fields"].get(k) != v)
            if changed:
                raise Conflict(
                    f"account {known['account']} is issued as receipt {known['token']}; its data cannot change "
                    f"(refused: {', '.join(changed)})"
                )
            return str(known["token"])
        fields = {**(known["fields"] if known else {}), **values}
        found = read_input(fields, now=kassensichv.parse_iso(now))
        if isinstance(found, list):
            raise BadRequest(found, prefix="invalid field")
        draft = known or self._new_draft(uow, {}, now)  # a new account once the fields are valid (a refusal uses none)
        if isinstance(found, Missing):
            uow.put(DRAFT_KIND, draft["account"], {**draft, "fields": fields, "updatedAt": now})
            body = {"err": "missing mandatory fields", "missing": list(found.names), "account": draft["account"]}
            if self._settings.strict:
                raise MissingFields(body)
            return body
        receipt = self._issue(uow, draft, fields, found, now)
        return str(receipt["token"])

    # the issued receipt
    def receipt(self, sandbox: str, token_or_account: str) -> dict[str, Any]:
        """The receipt by its number, or by the account it was prepared under; a draft is 409 (nothing issued)."""
        found = self._store.view(sandbox).get(RECEIPT_KIND, token_or_account)
        if found is not None:
            return found
        draft = read_draft(self._store.view(sandbox), token_or_account)
        if draft is None:
            raise NotFound(f"unknown receipt or account {token_or_account!r}")
        if draft["status"] != ISSUED:
            raise Conflict(f"account {token_or_account} is a draft: no receipt is issued yet (commit it first)")
        issued = self._store.view(sandbox).get(RECEIPT_KIND, str(draft["token"]))
        assert issued is not None
        return issued

    def verify(self, sandbox: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Re-check a receipt's signatures with the public key alone: a stored receipt by `token`, or a TSE record
        (`tse`) and/or a QR payload (`qr`) as a client holds them. Any altered signed field makes it invalid."""
        checks: list[dict[str, Any]] = []
        record, qr = body.get("tse"), body.get("qr")
        if record is None and {"raw", "signature"} <= set(body):  # the record itself as the body
            record = {k: body[k] for k in ("data", "raw", "signature", "publickey") if k in body}
        if "token" in body:
            receipt = self.receipt(sandbox, str(body["token"]))
            record, qr = receipt["tse"], receipt["kassensichv"]["qrCodeData"]
        if record is None and qr is None:
            raise BadRequest([Violation("$", "expected token, tse (the record of /quittung/tse) or qr (V0 payload)")])
        if record is not None:
            checks += self._record_checks(record, sandbox)
        if qr is not None:
            valid, why = kassensichv.verify_qr_code_data(str(qr))
            checks.append({"check": "qr signature (TR-03151 FinishTransaction)", "valid": valid, "detail": why})
            key_ok = str(qr).rsplit(";", 1)[-1] in self._known_keys(sandbox)
            checks.append({"check": "qr public key is this signing unit's", "valid": key_ok, "detail": ""})
        return {"valid": all(c["valid"] for c in checks), "checks": checks}

    def public_key(self, sandbox: str) -> dict[str, str]:
        """The sandbox's signing unit: each sandbox has its own key, serial and counters."""
        unit = self._unit.for_sandbox(sandbox)
        return {
            "publickey": unit.public_key_b64,
            "publickeyPem": unit.public_key_pem,
            "serialnumber": unit.serial_hex,
            "algorithmus": kassensichv.SIG_ALG,
        }

    # inside the transaction
    def _issue(
        self,
        uow: SandboxUnit,
        draft: Mapping[str, Any],
        fields: Mapping[str, Any],
        found: ReceiptInput,
        now: str,
    ) -> dict[str, Any]:
        """Number, count, sign and store, inside the caller's transaction, with the sandbox's own signing unit."""
        unit = self._unit.for_sandbox(uow.sandbox)
        amounts = compute(
            found.tx_energy, found.seller_yrconsumption, self._settings.tariff, small_business=found.small_business
        )
        issue = Issue(
            token=new_address(self._ids),
            account=str(draft["account"]),
            issued_at=now,
            tx=kassensichv.Transaction(
                client_id=self._settings.client_id,
                process_data=kassensichv.process_data(amounts.gross, exempt=found.small_business),
                transaction_number=uow.next_counter("quittung.txcnt"),
                signature_counter=uow.next_counter("quittung.signaturecnt"),
                start=kassensichv.parse_iso(draft["createdAt"]),  # the transaction bracket opened with prepare
                log_time=kassensichv.parse_iso(now),
            ),
            tse_serial_hex=unit.serial_hex,
            public_key_b64=unit.public_key_b64,
        )
        data = signed_data(issue, found, amounts)
        raw = canonical(data)
        record = {
            "data": data,
            "raw": raw,
            "signature": unit.sign(raw.encode("utf-8")),
            "publickey": issue.public_key_b64,
        }
        qr_signature = unit.sign(kassensichv.finish_transaction_message(issue.tx, unit.serial))
        receipt = receipt_document(issue, fields, found, amounts, record, qr_signature)
        uow.insert(RECEIPT_KIND, issue.token, receipt)
        issued = {**draft, "fields": dict(fields), "status": ISSUED, "token": issue.token, "updatedAt": now}
        uow.put(DRAFT_KIND, issue.account, issued)
        return receipt

    def _known_keys(self, sandbox: str) -> tuple[str, str]:
        """The sandbox's public key, and the installation key that signed receipts of state files from before each
        sandbox had its own unit."""
        return self._unit.for_sandbox(sandbox).public_key_b64, self._unit.public_key_b64

    def _record_checks(self, record: Any, sandbox: str) -> list[dict[str, Any]]:
        if not isinstance(record, Mapping) or not {"data", "raw", "signature", "publickey"} <= set(record):
            return [{"check": "tse record", "valid": False, "detail": "expected data, raw, signature, publickey"}]
        same = isinstance(record["data"], Mapping) and canonical(record["data"]) == record["raw"]
        valid, why = kassensichv.verify_plain_signature(
            _point(str(record["publickey"])), str(record["raw"]).encode("utf-8"), str(record["signature"])
        )
        return [
            {"check": "data is what raw says", "valid": same, "detail": "" if same else "data differs from raw"},
            {"check": "signature over raw", "valid": valid, "detail": why},
            {
                "check": "public key is this signing unit's",
                "valid": record["publickey"] in self._known_keys(sandbox),
                "detail": "",
            },
        ]

    def _new_draft(self, uow: SandboxUnit, values: Mapping[str, Any], now: str) -> DraftRecord:
        account = new_address(self._ids)
        draft: DraftRecord = {
            "account": account,
            "fields": dict(values),
            "status": DRAFT,
            "createdAt": now,
            "updatedAt": now,
        }
        uow.insert(DRAFT_KIND, account, draft)
        return draft

    def _draft(self, uow: SandboxUnit, account: str) -> DraftRecord:
        draft = read_draft(uow, account)
        if draft is None:
            raise NotFound(f"unknown account {account!r}")
        return draft

    def _now(self, sandbox: str) -> str:
        moment = self._clock.now(sandbox).replace(microsecond=0)
        return kassensichv.iso_ms(moment)


def _payload(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in CONTROL_KEYS}


def _readback(draft: Mapping[str, Any]) -> dict[str, Any]:
    body = {**draft["fields"], "account": draft["account"]}
    if draft.get("token"):
        body["token"] = draft["token"]
    return body


def _point(public_key_b64: str) -> bytes:
    try:
        return base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        return b""
