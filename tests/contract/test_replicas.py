"""Two `pruefstand serve` replicas on one PostgreSQL database, as behind a load balancer: receipt counters without
gap or duplicate, one process for concurrent duplicate MaCo triggers, the KUE-LE termination delivered once and in
order while both replicas' delivery workers run, and no acknowledged write lost when one replica is killed."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from pruefstand.contracts.listener import CallbackListener
from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN, GUARD, token_form
from tests.contract.test_maco_callbacks import wait_for
from tests.contract.test_serve_process import serving
from tests.contract.test_tmf622_termination_by_seller import SEED, _drive

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
Q = "/v2.0/quittung"
RECEIPT = {
    "tx_energy": 2.5,
    "tx_duration": 30,
    "seller_name": "Maxima Ladesäulia",
    "email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": 2500,
    "buyer_name": "Ludwig von Auto GmbH",
}


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two replicas (one worker process each) on one fresh database."""
    with ExitStack() as stack:
        bases = [
            stack.enter_context(serving(postgres_url, free_port(), "--workers", "1", log=tmp_path / f"replica{n}.log"))[
                0
            ]
            for n in range(2)
        ]
        yield bases


def test_concurrent_receipts_over_two_replicas_are_numbered_without_gap_or_duplicate(replicas: list[str]) -> None:
    def create(n: int) -> str:
        answer = httpx.post(f"{replicas[n % 2]}{Q}/create", json=RECEIPT, timeout=GUARD)
        assert answer.status_code == 200, answer.text
        return str(answer.json())

    with ThreadPoolExecutor(max_workers=20) as pool:
        tokens = list(pool.map(create, range(200)))
    assert len(set(tokens)) == 200
    counters = []
    for n, token in enumerate(tokens):
        receipt = httpx.get(f"{replicas[(n + 1) % 2]}{Q}/receipt", params={"token": token}).json()  # the other one
        counters.append((receipt["tse"]["data"]["txcnt"], receipt["tse"]["data"]["signaturecnt"]))
    assert sorted(c[0] for c in counters) == list(range(1, 201))
    assert sorted(c[1] for c in counters) == list(range(1, 201))


def test_concurrent_duplicate_triggers_over_two_replicas_start_one_process(
    replicas: list[str], seed_examples: dict[str, Any]
) -> None:
    form = token_form(load_settings(env={}))
    tokens = [httpx.post(f"{base}/maco/oauth/token", data=form).json()["access_token"] for base in replicas]
    trigger = seed_examples["Z33_Marktlokation_Addition"]

    def post(n: int) -> httpx.Response:
        td = trigger["transaktionsdaten"]
        other = {**td, "empfaenger": {**td["empfaenger"], "gewerbekennzeichnung": False}}  # another payload
        body = {**trigger, "transaktionsdaten": other} if n % 2 else trigger
        auth = {"Authorization": f"Bearer {tokens[n % 2]}"}
        return httpx.post(f"{replicas[n % 2]}/maco/inbound", json=body, headers=auth, timeout=GUARD)

    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(post, range(50)))
    created = {a.json()["businessKey"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # one process; identical payloads got its answer again, the others 409
    assert {a.status_code for a in answers} <= {201, 409}
    prozess_id = trigger["zusatzdaten"]["prozessId"]
    processes = httpx.get(
        f"{replicas[1]}/_admin/sandboxes/default/maco/processes", params={"prozessId": prozess_id}, headers=ADMIN
    ).json()
    assert [p["businessKey"] for p in processes] == list(created)


def test_the_termination_is_delivered_once_and_in_order_while_both_replicas_deliver(replicas: list[str]) -> None:
    listener = CallbackListener()
    with listener.serving() as url, httpx.Client(base_url=replicas[0], timeout=30) as client:
        created = _drive(client, url + "/tmf")
        wait_for(lambda: len(listener.received()) >= len(SEED))
    received = listener.received()
    assert [(m.path.rsplit("/", 1)[1], m.body["event"]["productOrder"]["state"]) for m in received] == [
        (path, state) for path, state, _, _ in SEED
    ]
    assert {m.body["event"]["productOrder"]["id"] for m in received} == {created["id"]}
    journal = httpx.get(f"{replicas[1]}/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
    assert [len(d["attempts"]) for d in journal] == [1] * len(SEED)  # each once


def test_killing_one_replica_under_load_loses_no_acknowledged_write(postgres_url: str, tmp_path: Path) -> None:
    with serving(postgres_url, free_port(), "--workers", "1", log=tmp_path / "survivor.log") as (survivor, _):
        with serving(postgres_url, free_port(), "--workers", "1", log=tmp_path / "victim.log") as (victim, proc):

            def create(n: int) -> str | None:
                if n == 60:
                    proc.send_signal(signal.SIGKILL)
                try:
                    answer = httpx.post(f"{(victim, survivor)[n % 2]}{Q}/create", json=RECEIPT, timeout=GUARD)
                except httpx.TransportError:
                    return None  # never acknowledged: the client would retry
                return str(answer.json()) if answer.status_code == 200 else None

            with ThreadPoolExecutor(max_workers=8) as pool:
                acknowledged = [t for t in pool.map(create, range(160)) if t]
        assert len(acknowledged) >= 80
        for token in acknowledged:
            receipt = httpx.get(f"{survivor}{Q}/receipt", params={"token": token})
            assert receipt.status_code == 200, token
        numbers = sorted(
            httpx.get(f"{survivor}{Q}/receipt", params={"token": t}).json()["tse"]["data"]["txcnt"]
            for t in acknowledged
        )
        assert len(set(numbers)) == len(numbers)


def test_replicas_started_without_a_token_share_the_one_kept_in_the_database(postgres_url: str, tmp_path: Path) -> None:
    logs = [tmp_path / f"token{n}.log" for n in range(2)]
    with ExitStack() as stack:
        unset = {"PRUEFSTAND_ADMIN_TOKEN": ""}
        replica = [serving(postgres_url, free_port(), "--workers", "1", log=log, env=unset) for log in logs]
        bases = [stack.enter_context(started)[0] for started in replica]
        tokens = []
        for log in logs:
            for _ in range(100_000):  # the banner follows readiness at once: read until it is there
                found = re.findall(r"admin token: (\S+) \(kept in the database\)", log.read_text(errors="replace"))
                if found:
                    break
            tokens.append(found[0])
        assert tokens[0] == tokens[1]
        for base in bases:
            answer = httpx.get(f"{base}/_admin/sandboxes", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=60)
            assert answer.status_code == 200, answer.text
            assert "_pruefstand" not in answer.text  # the internal sandbox is never listed
