"""Strom-Quittung over HTTP (in-process): the draft store, issuing (atomic, idempotent, immutable afterwards), the
documented answers for missing and wrong fields, the signature checked by an independent verifier with the public
key alone, tampering detected, counters and key across a restart, the PDF and the ZUGFeRD XML read back."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from eth_utils.address import is_checksum_address
from pypdf import PdfReader
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.flows.quittung.amounts import Tariff
from pruefstand.mock_server.flows.quittung.service import QuittungSettings, ReceiptService
from pruefstand.mock_server.flows.quittung.signing_unit import SigningUnit
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings

Q = "/v2.0/quittung"
SELLER = {
    "seller_name": "Maxima Ladesäulia",
    "seller_email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": 2500,
}
SESSION = {"tx_energy": 2.123, "tx_duration": 25, "tx_date": "2021-08-22T10:15", "tx_meter": "KEBA-4711"}
BUYER = {"buyer_name": "Ludwig von Auto GmbH"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with create_app(make_settings(), store=SQLiteStore(":memory:")).test_client() as test_client:
        yield test_client


def issue(client: TestClient, **extra: Any) -> tuple[str, str]:
    """Three prepares and a commit, as a wallbox, an EMS and the billing system would; returns (account, token)."""
    account = client.post(f"{Q}/prepare", json=SESSION).json()["account"]
    client.post(f"{Q}/prepare", json={"account": account, **SELLER})
    client.post(f"{Q}/prepare", params={"account": account}, json={**BUYER, **extra})
    token = client.post(f"{Q}/commit", params={"account": account}).json()
    assert isinstance(token, str), token
    return account, token


def test_prepare_is_a_key_value_store_per_account(client: TestClient) -> None:
    first = client.post(f"{Q}/prepare", json={"tx_energy": 2.123, "ems": {"battery": [1, 2]}})
    assert first.status_code == 200
    account = first.json()["account"]
    assert is_checksum_address(account)  # 160 random bits, EIP-55 case
    client.post(f"{Q}/prepare", json={"account": account, "tx_energy": 3.5, "buyer_name": "B"})
    back = client.post(f"{Q}/prepare", json={"account": account}).json()
    assert back == {"account": account, "tx_energy": 3.5, "ems": {"battery": [1, 2]}, "buyer_name": "B"}
    assert client.post(f"{Q}/prepare").json()["account"] not in (account, None)  # a new slot each time
    unknown = client.post(f"{Q}/prepare", json={"account": "0x0000000000000000000000000000000000000001"})
    assert unknown.status_code == 404
    assert unknown.json() == {"err": "unknown account '0x0000000000000000000000000000000000000001'"}


def test_commit_names_every_missing_field_keeps_the_values_and_issues_once_complete(client: TestClient) -> None:
    account = client.post(f"{Q}/prepare", json=SESSION).json()["account"]
    missing = client.post(f"{Q}/commit", json={"account": account, "seller_name": "Maxima"})
    assert missing.status_code == 200  # as the real service's clients expect (Node-RED reads response.err)
    assert missing.json() == {
        "err": "missing mandatory fields",
        "missing": ["seller_email", "seller_zipcode", "seller_yrconsumption", "buyer_name"],
        "account": account,
    }
    assert client.post(f"{Q}/prepare", json={"account": account}).json()["seller_name"] == "Maxima"
    token = client.post(f"{Q}/commit", params={"preperation": account}, json={**SELLER, **BUYER}).json()
    assert is_checksum_address(token)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert receipt["account"] == account
    assert receipt["fields"]["tx_meter"] == "KEBA-4711"
    assert receipt["amounts"]["gross"] == "0.86"
    assert receipt["tse"]["data"]["serialnumber"] == token


def test_strict_mode_answers_422_with_the_same_body() -> None:
    with create_app(make_settings(quittung_strict=True), store=SQLiteStore(":memory:")).test_client() as client:
        answer = client.post(f"{Q}/commit", json={"tx_energy": 1})
    assert answer.status_code == 422
    assert answer.json()["missing"] == [
        "seller_name",
        "seller_email",
        "seller_zipcode",
        "seller_yrconsumption",
        "buyer_name",
        "tx_duration",
    ]


def test_a_wrong_value_is_400_naming_the_field_and_nothing_is_stored(client: TestClient) -> None:
    account = client.post(f"{Q}/prepare", json={**SESSION, **SELLER, **BUYER}).json()["account"]
    before = client.post(f"{Q}/prepare", json={"account": account}).json()
    wrong = client.post(f"{Q}/commit", json={"account": account, "tx_energy": "viel", "seller_zipcode": "1"})
    assert wrong.status_code == 400
    assert wrong.json() == {
        "err": "invalid field: $.seller_zipcode: expected a German postcode (5 digits), got '1'; "
        "$.tx_energy: expected a number, got 'viel'"
    }
    assert client.post(f"{Q}/prepare", json={"account": account}).json() == before


def test_issued_is_immutable_and_commit_is_idempotent(client: TestClient) -> None:
    account, token = issue(client)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert client.post(f"{Q}/commit", params={"account": account}).json() == token
    assert client.post(f"{Q}/commit", json={"account": account, **BUYER}).json() == token  # same values: same token
    for path, body in (("prepare", {"tx_energy": 99}), ("commit", {"tx_energy": 99}), ("prepare", {"note": "x"})):
        refused = client.post(f"{Q}/{path}", json={"account": account, **body})
        assert refused.status_code == 409, path
        assert refused.json()["err"].startswith(f"account {account} is issued as receipt {token}; its data cannot")
    assert client.get(f"{Q}/receipt", params={"token": token}).json() == receipt
    read_back = client.post(f"{Q}/prepare", json={"account": account}).json()
    assert (read_back["token"], read_back["tx_energy"]) == (token, 2.123)
    assert client.post(f"{Q}/tse", params={"account": account}).json() == receipt["tse"]  # by account too


def test_receipt_documents_of_a_draft_are_409_and_of_nothing_404(client: TestClient) -> None:
    draft = client.post(f"{Q}/prepare", json=SESSION).json()["account"]
    for method, path, key in (
        ("POST", "tse", "account"),
        ("POST", "tsedata", "account"),
        ("POST", "tsesignature", "account"),
        ("GET", "zugferd", "account"),
        ("GET", "pdf", "token"),
        ("GET", "receipt", "token"),
    ):
        assert client.request(method, f"{Q}/{path}", params={key: draft}).status_code == 409, path
        gone = client.request(method, f"{Q}/{path}", params={key: "0xdead"})
        assert gone.status_code == 404, path
        assert gone.json() == {"err": "unknown receipt or account '0xdead'"}


def _message(qr: list[str]) -> bytes:
    """The TR-03151 FinishTransaction log message, byte by byte, as an independent verifier rebuilds it."""

    def tlv(tag: int, value: bytes) -> bytes:
        assert len(value) < 128
        return bytes([tag, len(value)]) + value

    def integer(tag: int, number: int) -> bytes:
        return tlv(tag, number.to_bytes((number.bit_length() + 8) // 8, "big"))

    _, client_id, process_type, process_data, tx, sig_counter, _, log_time, _, _, _, public = qr
    oid_sig = bytes.fromhex("04007f00070101040103")  # 0.4.0.127.0.7.1.1.4.1.3 ecdsa-plain-SHA256
    stamp = datetime.fromisoformat(log_time.replace("Z", "+00:00")).astimezone(UTC).strftime("%y%m%d%H%M%SZ")
    return b"".join(
        [
            integer(0x02, 2),
            tlv(0x06, bytes.fromhex("04007f000703070101")),
            tlv(0x80, b"FinishTransaction"),
            tlv(0x81, client_id.encode()),
            tlv(0x82, process_data.encode()),
            tlv(0x83, process_type.encode()),
            integer(0x85, int(tx)),
            tlv(0x04, hashlib.sha256(base64.b64decode(public)).digest()),
            tlv(0x30, tlv(0x06, oid_sig)),
            integer(0x02, int(sig_counter)),
            tlv(0x17, stamp.encode()),
        ]
    )


def _verify(public_b64: str, message: bytes, signature_b64: str) -> None:
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), base64.b64decode(public_b64))
    raw = base64.b64decode(signature_b64)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, message, ec.ECDSA(hashes.SHA256()))


def test_an_independent_verifier_with_only_the_public_key_accepts_record_and_qr(client: TestClient) -> None:
    _, token = issue(client)
    record = client.post(f"{Q}/tse", params={"account": token}).json()
    assert set(record) == {"data", "raw", "signature", "publickey"}
    assert {"txcnt", "start", "end", "serialnumber", "clientid", "signaturecnt", "timeformat", "algorithmus"} <= set(
        record["data"]
    )
    assert (record["data"]["timeformat"], record["data"]["algorithmus"]) == ("utcTime", "ecdsa-plain-SHA256")
    assert json.loads(record["raw"]) == record["data"]
    assert client.post(f"{Q}/tsedata", params={"account": token}).json() == record["raw"]
    assert client.post(f"{Q}/tsesignature", params={"account": token}).json() == record["signature"]
    _verify(record["publickey"], record["raw"].encode(), record["signature"])
    public = client.get(f"{Q}/publickey").json()
    point = base64.b64decode(public["publickey"])
    assert public["serialnumber"] == hashlib.sha256(point).hexdigest() == record["data"]["tseSerialnumber"]

    qr = client.get(f"{Q}/receipt", params={"token": token}).json()["kassensichv"]["qrCodeData"].split(";")
    assert qr[:4] == ["V0", "pruefstand-quittung", "Kassenbeleg-V1", "Beleg^0.86_0.00_0.00_0.00_0.00^0.86:Unbar"]
    assert qr[8:10] == ["ecdsa-plain-SHA256", "utcTime"]
    assert len(qr[10]) == 88  # plain r||s of P-256 in base64
    _verify(qr[11], _message(qr), qr[10])
    with pytest.raises(InvalidSignature):
        _verify(qr[11], _message([*qr[:3], "Beleg^0.01_0.00_0.00_0.00_0.00^0.01:Unbar", *qr[4:]]), qr[10])


def test_verify_says_valid_for_a_genuine_receipt_and_invalid_for_any_altered_signed_field(client: TestClient) -> None:
    _, token = issue(client)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert client.post(f"{Q}/verify", json={"token": token}).json()["valid"] is True
    record, qr = receipt["tse"], receipt["kassensichv"]["qrCodeData"]
    assert client.post(f"{Q}/verify", json={"tse": record, "qr": qr}).json()["valid"] is True
    altered_data = {**record, "data": {**record["data"], "tx_energy": "20.123"}}
    altered_raw = {**record, "raw": record["raw"].replace('"gross":"0.86"', '"gross":"0.08"')}
    altered_signature = {**record, "signature": record["signature"][:-4] + "AAA="}
    for tampered in (altered_data, altered_raw, altered_signature):
        answer = client.post(f"{Q}/verify", json={"tse": tampered}).json()
        assert answer["valid"] is False
        assert [c["check"] for c in answer["checks"] if not c["valid"]]
    fields = qr.split(";")
    for index in (1, 3, 4, 5, 7):  # client id, process data, tx number, signature counter, log time
        changed = list(fields)
        changed[index] = changed[index].replace("0", "1") if "0" in changed[index] else changed[index] + "1"
        verdict = client.post(f"{Q}/verify", json={"qr": ";".join(changed)}).json()
        assert verdict["valid"] is False, index


def test_counters_grow_without_gaps_and_counters_and_key_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    settings = make_settings(db=db)
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        records = [client.post(f"{Q}/tse", params={"account": issue(client)[1]}).json() for _ in range(3)]
        key = client.get(f"{Q}/publickey").json()
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        after = client.post(f"{Q}/tse", params={"account": issue(client)[1]}).json()
        assert client.get(f"{Q}/publickey").json() == key
        assert client.post(f"{Q}/verify", json={"tse": records[0]}).json()["valid"] is True
    counters = [(r["data"]["txcnt"], r["data"]["signaturecnt"]) for r in [*records, after]]
    assert counters == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert after["publickey"] == key["publickey"]


def test_concurrent_prepares_lose_no_key_and_concurrent_commits_make_one_receipt(tmp_path: Path) -> None:
    """Two worker processes (two stores on one file), several threads each."""
    db = tmp_path / "state.db"
    stores = [SQLiteStore(db), SQLiteStore(db)]
    settings = QuittungSettings(tariff=Tariff(Decimal("35"), Decimal("12")))
    units = [SigningUnit(s) for s in stores]
    for unit in units:
        unit.load()  # as the flow's start-up does
    services = [ReceiptService(s, Clock(s), unit, settings) for s, unit in zip(stores, units, strict=True)]
    account = services[0].prepare("s", None, SESSION)["account"]

    def run(jobs: list[Any]) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        threads = [
            threading.Thread(target=lambda i=i, job=job: results.__setitem__(i, job())) for i, job in enumerate(jobs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    run([lambda n=n: services[n % 2].prepare("s", account, {f"key{n}": n}) for n in range(20)])
    stored = services[0].prepare("s", account, {})
    assert {f"key{n}" for n in range(20)} <= set(stored)
    services[1].prepare("s", account, {**SELLER, **BUYER})
    tokens = run([lambda n=n: services[n % 2].commit("s", account, {}) for n in range(8)])
    assert len(set(tokens)) == 1
    second = services[0].commit("s", None, {**SESSION, **SELLER, **BUYER})
    assert services[0].receipt("s", str(second))["tse"]["data"]["txcnt"] == 2  # one counter value per receipt
    for store in stores:
        store.close()


def test_the_pdf_carries_what_a_receipt_needs_and_the_zugferd_xml(client: TestClient) -> None:
    _, token = issue(client)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    answer = client.get(f"{Q}/pdf", params={"token": token})
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Strom-Quittung",
        token,
        "Maxima Ladesäulia",
        "12345",
        "Ludwig von Auto GmbH",
        "2,123 kWh",
        "25 Minuten",
        "Nettobetrag",
        "0,72 €",
        "Umsatzsteuer 19 %",
        "0,14 €",
        "0,86 €",
        "TSE-Signaturzähler",
        "ecdsa-plain-SHA256",
    ):
        assert expected in text, expected
    assert receipt["kassensichv"]["serialNumber"] in "".join(text.split())  # wrapped in its column
    attachments = reader.attachments
    assert "factur-x.xml" in attachments
    assert ET.fromstring(attachments["factur-x.xml"][0]) is not None
    assert len(reader.pages[0].images) == 1  # the QR code


def test_the_zugferd_xml_is_a_cii_invoice_of_the_same_data(client: TestClient) -> None:
    _, token = issue(client)
    answer = client.get(f"{Q}/zugferd", params={"account": token})
    assert answer.headers["content-type"].startswith("application/xml")
    ns = {
        "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    }
    root = ET.fromstring(answer.content)
    assert root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=ns) == token
    trade = "rsm:SupplyChainTradeTransaction/"
    agreement = trade + "ram:ApplicableHeaderTradeAgreement/"
    assert root.findtext(agreement + "ram:SellerTradeParty/ram:Name", namespaces=ns) == "Maxima Ladesäulia"
    assert root.findtext(agreement + "ram:BuyerTradeParty/ram:Name", namespaces=ns) == "Ludwig von Auto GmbH"
    totals = trade + "ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    assert root.findtext(totals + "ram:TaxBasisTotalAmount", namespaces=ns) == "0.72"
    assert root.findtext(totals + "ram:TaxTotalAmount", namespaces=ns) == "0.14"
    assert root.findtext(totals + "ram:GrandTotalAmount", namespaces=ns) == "0.86"
    quantities = root.findall(trade + "ram:IncludedSupplyChainTradeLineItem//ram:BilledQuantity", ns)
    assert (quantities[0].text, quantities[0].get("unitCode")) == ("2.123", "KWH")


def test_a_small_business_receipt_shows_no_vat_and_the_exemption_note(client: TestClient) -> None:
    _, token = issue(client, seller_small_business=True)
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert (receipt["amounts"]["vat"], receipt["amounts"]["net"]) == ("0.00", "0.86")
    assert receipt["kassensichv"]["processData"] == "Beleg^0.00_0.00_0.00_0.00_0.86^0.86:Unbar"
    assert "§ 19 UStG" in receipt["amounts"]["note"]
    text = PdfReader(io.BytesIO(client.get(f"{Q}/pdf", params={"token": token}).content)).pages[0].extract_text()
    assert "§ 19 UStG" in text


def test_create_takes_everything_in_one_call_with_meter_readings(client: TestClient) -> None:
    body = {
        "seller_name": "A",
        "email": "a@b.de",
        "seller_zipcode": "12345",
        "seller_yrconsumption": "2500",
        "buyer_name": "B",
        "startKWH": "1234.506",
        "endKWH": "1235.678",
        "startTime": 1624607242361,
        "endTime": 1624610856393,
    }
    token = client.post(f"{Q}/create", json=body).json()
    receipt = client.get(f"{Q}/receipt", params={"token": token}).json()
    assert (receipt["input"]["tx_energy"], receipt["input"]["tx_duration"]) == ("1.172", "60")
    assert receipt["input"]["seller_email"] == "a@b.de"


def test_names_in_any_latin_script_print_as_written_and_control_characters_are_refused(client: TestClient) -> None:
    body = {**SESSION, **SELLER, "seller_name": "Elektro Łódź Sp. z o.o.", "buyer_name": "Jiří Dvořák"}
    token = client.post(f"{Q}/create", json=body).json()
    text = PdfReader(io.BytesIO(client.get(f"{Q}/pdf", params={"token": token}).content)).pages[0].extract_text()
    assert "Elektro Łódź Sp. z o.o." in text
    assert "Jiří Dvořák" in text
    for name, value in (("buyer_name", "B\x01C"), ("buyer_name", "x" * 201), ("seller_name", "evil\u202egnp.exe")):
        refused = client.post(f"{Q}/create", json={**body, name: value})
        assert refused.status_code == 400
        assert f"$.{name}: expected a text of 1 to 200 printable characters" in refused.json()["err"]
    refused = client.post(f"{Q}/create", json={**body, "buyer_name": "B\x00C"})  # refused for every API, named
    assert refused.json()["err"] == (
        "Malformed request: $.buyer_name: holds the character U+0000 (NUL), which no field of this API takes"
    )


@pytest.mark.parametrize(
    ("path", "content", "headers", "status", "fragment"),
    [
        ("prepare", b"[1, 2]", {"Content-Type": "application/json"}, 400, "is not of type 'object'"),
        ("prepare", b"{oops", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        ("prepare", b'{"a": "\xff"}', {"Content-Type": "application/json"}, 400, "UTF-8"),
        ("prepare", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415, ""),
        ("commit", b"[" * 100 + b"]" * 100, {"Content-Type": "application/json"}, 400, "nest"),
        ("create", b"", {"Content-Type": "application/json"}, 400, "a JSON body is required"),
        ("create", b'{"a": "' + b"x" * 2_000_000 + b'"}', {"Content-Type": "application/json"}, 413, ""),
        ("verify", b"{}", {"Content-Type": "application/json"}, 400, "expected token, tse"),
    ],
)
def test_hostile_input_gets_a_4xx_with_err_and_stores_nothing(
    client: TestClient, path: str, content: bytes, headers: dict[str, str], status: int, fragment: str
) -> None:
    answer = client.post(f"{Q}/{path}", content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"err"}
    assert fragment in answer.json()["err"]
    assert client.app.services.store.find("default", "quittung.draft") == []  # type: ignore[attr-defined]


def test_verify_takes_the_number_in_the_query_or_the_record_itself_and_the_key_comes_as_pem_too(
    client: TestClient,
) -> None:
    _, token = issue(client)
    record = client.post(f"{Q}/tse", params={"account": token}).json()
    assert client.post(f"{Q}/verify", params={"token": token}).json()["valid"] is True
    assert client.post(f"{Q}/verify", json=record).json()["valid"] is True
    tampered = {**record, "raw": record["raw"].replace('"txcnt":1', '"txcnt":2')}
    assert client.post(f"{Q}/verify", json=tampered).json()["valid"] is False
    key = client.get(f"{Q}/publickey").json()
    loaded = serialization.load_pem_public_key(key["publickeyPem"].encode())
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    raw = base64.b64decode(record["signature"])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    loaded.verify(der, record["raw"].encode(), ec.ECDSA(hashes.SHA256()))


def test_each_sandbox_has_its_own_signing_unit_kept_across_restarts_and_resets(tmp_path: Path) -> None:
    """Counters are per sandbox, so the serial is too: two sandboxes' first receipts both carry counter 1, under two
    serials. A sandbox keeps its serial after a restart and after a reset; a receipt verifies only in its sandbox."""
    db = str(tmp_path / "state.db")
    settings = make_settings(db=db)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    records, keys = {}, {}
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        for sandbox in ("a", "b"):
            client.headers["X-Pruefstand-Sandbox"] = sandbox
            records[sandbox] = client.post(f"{Q}/tse", params={"account": issue(client)[1]}).json()
            keys[sandbox] = client.get(f"{Q}/publickey").json()
    assert records["a"]["data"]["txcnt"] == records["b"]["data"]["txcnt"] == 1
    assert keys["a"]["serialnumber"] != keys["b"]["serialnumber"]
    assert records["a"]["publickey"] == keys["a"]["publickey"] != records["b"]["publickey"]
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        client.headers["X-Pruefstand-Sandbox"] = "a"
        assert client.get(f"{Q}/publickey").json() == keys["a"]
        assert client.post(f"{Q}/verify", json={"tse": records["a"]}).json()["valid"] is True
        foreign = client.post(f"{Q}/verify", json={"tse": records["b"]}).json()
        assert foreign["valid"] is False
        assert [c["valid"] for c in foreign["checks"]] == [True, True, False]  # signed, but by another unit
        assert client.delete("/_admin/sandboxes/a", headers=admin).status_code == 200
        assert client.get(f"{Q}/publickey").json() == keys["a"]


def test_a_receipts_documents_are_rendered_once_off_the_event_loop_and_then_kept(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF's bytes are fixed for an issued receipt: a repeat answers the same bytes without rendering again; the
    first render runs in a worker thread (no event loop running there), so no request waits behind it."""
    import asyncio

    from pruefstand.mock_server.flows.quittung import handlers
    from pruefstand.mock_server.flows.quittung.pdf import receipt_pdf as original

    renders: list[bool] = []

    def counting(receipt: Any) -> bytes:
        try:
            asyncio.get_running_loop()
            renders.append(True)  # on the event loop: what must not happen
        except RuntimeError:
            renders.append(False)
        return original(receipt)

    monkeypatch.setattr(handlers, "receipt_pdf", counting)
    token = client.post(f"{Q}/create", json={**SESSION, **SELLER, "buyer_name": "Jiří Dvořák"}).json()
    first = client.get(f"{Q}/pdf", params={"token": token})
    again = client.get(f"{Q}/pdf", params={"token": token})
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert renders == [False]  # once, in a thread
    other = client.post(f"{Q}/create", json={**SESSION, **SELLER, "buyer_name": "Ada Lovelace"}).json()
    assert client.get(f"{Q}/pdf", params={"token": other}).content != first.content
    assert renders == [False, False]


def test_a_first_render_runs_in_a_render_process_that_ends_with_the_app() -> None:
    """The render's CPU never holds the event loop (not even through the interpreter lock of a thread): it runs in a
    process of its own, started at the first render, gone when the app stops."""
    import multiprocessing

    with create_app(make_settings(), store=SQLiteStore(":memory:")).test_client() as app_client:
        token = app_client.post(f"{Q}/create", json={**SESSION, **SELLER, "buyer_name": "Grace Hopper"}).json()
        answer = app_client.get(f"{Q}/pdf", params={"token": token})
        assert answer.content.startswith(b"%PDF")
        assert [p.name for p in multiprocessing.active_children() if "SpawnProcess" in p.name]
    assert [p for p in multiprocessing.active_children() if "SpawnProcess" in p.name] == []
