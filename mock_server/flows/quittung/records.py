"""The documents the Strom-Quittung flow stores and reads fields from, typed: the draft per account code (phase 1,
then marked issued) and the signing key. The issued receipt is the document `receipt.receipt_document` builds (the
mock's receipt schema); it is read whole, never field by field, so it stays a plain mapping here."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from pruefstand.mock_server.store import SandboxView

DRAFT_KIND, RECEIPT_KIND = "quittung.draft", "quittung.receipt"


class DraftRecord(TypedDict):
    account: str
    fields: dict[str, Any]  # what the systems prepared, merged (last write wins)
    status: Literal["draft", "issued"]
    createdAt: str  # the KassenSichV transaction opens here (prepare)
    updatedAt: str
    token: NotRequired[str]  # the receipt number, once issued


class SigningKeyRecord(TypedDict):
    pem: str  # PKCS#8, the installation key each sandbox's key is derived from


def read_draft(view: SandboxView, account: str) -> DraftRecord | None:
    return cast(DraftRecord | None, view.get(DRAFT_KIND, account))
