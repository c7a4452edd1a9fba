"""The delivery engine: outbox in the store, per-stream order, retries with backoff, dead letters, allow-list,
journal, and nothing lost when a worker dies mid-delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pruefstand.mock_server.delivery import DeliveryWorker, RetryPolicy
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.store import OutboundMessage, SQLiteStore

TARGET = "http://backend.test/updateProcessData"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Outbound HTTP goes nowhere real: an unmatched request fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "d.db", wall_clock=lambda: 1_000.0)


def enqueue(
    store: SQLiteStore, n: int, *, stream: str = "s1", sandbox: str = "a", target: str = TARGET, first: int = 0
) -> None:
    with store.transaction() as uow:
        for i in range(first, first + n):
            uow.publish(sandbox, OutboundMessage(stream, "test", target, {"n": i}, {"Authorization": "Bearer x"}))


def worker(store: SQLiteStore, clock: FakeClock, **kwargs: object) -> DeliveryWorker:
    kwargs.setdefault("targets", TargetPolicy.from_patterns(["*.test"]))
    return DeliveryWorker(store.outbox, RetryPolicy(base=1, factor=2, cap=4, max_attempts=3), clock=clock, **kwargs)  # type: ignore[arg-type]


def received(route: respx.Route) -> list[int]:
    return [json.loads(call.request.content)["n"] for call in route.calls]


def test_retry_policy_backs_off_exponentially_up_to_the_cap_then_gives_up() -> None:
    policy = RetryPolicy(base=0.5, factor=2, cap=3, max_attempts=5)
    assert [policy.delay_after(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, None]


def test_a_failing_receiver_gets_each_message_once_in_order_after_retries(
    store: SQLiteStore, router: respx.MockRouter
) -> None:
    clock = FakeClock()
    route = router.post(TARGET).mock(
        side_effect=[httpx.Response(500), httpx.Response(200), httpx.Response(200), httpx.Response(204)]
    )
    enqueue(store, 3)
    w = worker(store, clock)

    assert asyncio.run(w.run_once()) == 1  # only the head of the stream; it fails
    assert asyncio.run(w.run_once()) == 0  # the retry is not due yet, and the others wait behind it
    clock.now += 1
    for _ in range(3):
        asyncio.run(w.run_once())

    assert received(route) == [0, 0, 1, 2]
    assert route.calls[0].request.headers["Authorization"] == "Bearer x"
    assert (
        route.calls[0].request.headers["X-Pruefstand-Delivery-Id"]
        == route.calls[1].request.headers["X-Pruefstand-Delivery-Id"]
    )
    journal = store.outbox.journal("a")
    assert [d["status"] for d in journal] == ["delivered", "delivered", "delivered"]
    assert [[a["statusCode"] for a in d["attempts"]] for d in journal] == [[500, 200], [200], [204]]
    assert journal[0]["attempts"][0]["error"] == "answered 500"
    assert all(a["latencyMs"] >= 0 for d in journal for a in d["attempts"])


def test_after_the_last_attempt_a_message_is_dead_and_holds_its_stream_until_redelivered(
    store: SQLiteStore, router: respx.MockRouter
) -> None:
    clock = FakeClock()
    route = router.post(TARGET).mock(side_effect=[httpx.ConnectError("refused")] * 3 + [httpx.Response(200)] * 2)
    enqueue(store, 2)
    w = worker(store, clock)
    for _ in range(5):
        asyncio.run(w.run_once())
        clock.now += 10
    journal = store.outbox.journal("a")
    assert [d["status"] for d in journal] == ["dead", "pending"]  # the later message does not overtake
    assert [a["error"] for a in journal[0]["attempts"]] == ["ConnectError: refused"] * 3
    assert received(route) == [0, 0, 0]

    assert store.outbox.redeliver_dead("a", clock.now) == 1  # the receiver is back: the stream resumes in order
    for _ in range(2):
        asyncio.run(w.run_once())
    assert received(route) == [0, 0, 0, 0, 1]
    assert [d["status"] for d in store.outbox.journal("a")] == ["delivered", "delivered"]


def test_streams_are_independent(store: SQLiteStore, router: respx.MockRouter) -> None:
    clock = FakeClock()
    failing = router.post("http://a.test/x").mock(return_value=httpx.Response(503))
    fine = router.post("http://b.test/x").mock(return_value=httpx.Response(200))
    enqueue(store, 1, stream="slow", target="http://a.test/x")
    enqueue(store, 2, stream="fast", target="http://b.test/x")
    w = worker(store, clock)
    asyncio.run(w.run_once())
    asyncio.run(w.run_once())
    assert len(failing.calls) == 1
    assert received(fine) == [0, 1]


def test_a_target_the_mock_may_not_send_to_is_dead_at_once_and_never_called(
    store: SQLiteStore, router: respx.MockRouter
) -> None:
    """The allow-list may have narrowed since the target was registered, or a state file holds an unusable URL:
    the delivery is never attempted, dead at once with the reason, and other streams go on."""
    clock = FakeClock()
    fine = router.post(TARGET).mock(return_value=httpx.Response(200))
    enqueue(store, 1, stream="metadata", target="http://169.254.169.254/latest/meta-data")
    enqueue(store, 1, stream="malformed", target="http://[::1")
    enqueue(store, 1, stream="fine")
    asyncio.run(worker(store, clock, targets=TargetPolicy.from_patterns(["*.test"])).run_once())
    journal = {d["stream"]: d for d in store.outbox.journal("a")}
    assert [journal[s]["status"] for s in ("metadata", "malformed", "fine")] == ["dead", "dead", "delivered"]
    assert journal["metadata"]["attempts"][0]["error"] == (
        "a private or reserved address 169.254.169.254 is not on the delivery allow-list (loopback, *.test)"
    )
    assert "http://[::1 is not a valid URL" in journal["malformed"]["attempts"][0]["error"]
    assert len(fine.calls) == 1


def test_a_worker_dying_mid_delivery_loses_nothing_and_repeats_nothing_acknowledged(
    tmp_path: Path, router: respx.MockRouter
) -> None:
    clock = FakeClock()
    route = router.post(TARGET).mock(return_value=httpx.Response(200))
    first = SQLiteStore(tmp_path / "d.db", wall_clock=clock)
    enqueue(first, 1)
    asyncio.run(worker(first, clock).run_once())  # message 0 delivered and acknowledged
    enqueue(first, 2, first=1)
    claimed = first.outbox.claim_due(clock(), "dying-worker", 30, limit=10)  # message 1 claimed, never finished
    assert [c["payload"]["n"] for c in claimed] == [1]
    first.close()

    restarted = SQLiteStore(tmp_path / "d.db", wall_clock=clock)  # the process comes back
    w = worker(restarted, clock)
    assert asyncio.run(w.run_once()) == 0  # the dead worker's lease still holds
    clock.now += 31
    for _ in range(3):
        asyncio.run(w.run_once())
    assert received(route) == [0, 1, 2]
    assert [d["status"] for d in restarted.outbox.journal("a")] == ["delivered"] * 3


def test_a_busy_stream_follows_on_from_one_claim_and_stops_at_a_failure(
    store: SQLiteStore, router: respx.MockRouter
) -> None:
    """Each delivered message is recorded with the claim of the next of its stream (one transaction a message): one
    claim delivers a stream of five in order; a failure ends the chain and leaves the rest waiting behind it."""
    clock = FakeClock()
    claims: list[int] = []
    claim_due = store.outbox.claim_due

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = claim_due(*args, **kwargs)
        claims.append(len(found))
        return found

    store.outbox.claim_due = counted  # type: ignore[method-assign]
    route = router.post(TARGET).mock(return_value=httpx.Response(200))
    enqueue(store, 5)
    assert asyncio.run(worker(store, clock).run_once()) == 1  # the head claimed, the rest followed
    assert claims == [1]
    assert received(route) == [0, 1, 2, 3, 4]
    assert [d["status"] for d in store.outbox.journal("a")] == ["delivered"] * 5

    failing = router.post(f"{TARGET}/b").mock(side_effect=[httpx.Response(200), httpx.Response(500)])
    enqueue(store, 4, stream="s2", target=f"{TARGET}/b")
    asyncio.run(worker(store, clock).run_once())
    assert received(failing) == [0, 1]
    statuses = [d["status"] for d in store.outbox.journal("a") if d["stream"] == "s2"]
    assert statuses == ["delivered", "pending", "pending", "pending"]  # 1 waits for its retry, 2 and 3 behind it


def test_a_sandbox_reset_clears_its_outbox_only(store: SQLiteStore) -> None:
    enqueue(store, 2, sandbox="a")
    enqueue(store, 1, sandbox="b")
    store.reset_sandbox("a")
    assert store.outbox.journal("a") == []
    assert len(store.outbox.journal("b")) == 1


class Receiver:
    """A plain HTTP receiver on 127.0.0.1: answers 200 at once, or (paths starting with /hang) only when released."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.release = asyncio.Event()
        self.hanging = asyncio.Event()
        self.five_fast = asyncio.Event()
        self.port = 0

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.release.set()
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._exchanges(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _exchanges(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
            await reader.readexactly(length)
            path = head.split(b" ")[1].decode()
            if path.startswith("/hang"):
                self.hanging.set()
                await self.release.wait()
            self.paths.append(path)
            if self.paths.count("/fast") >= 5:
                self.five_fast.set()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()


def test_a_delivery_connects_only_to_the_address_that_was_checked(store: SQLiteStore) -> None:
    """Names resolve once, in the mock: `good.test` (only the test's resolver knows it) reaches the receiver on
    127.0.0.1, so the connection went to the checked address; `evil.test` resolves to the metadata address and is
    refused before any connection, though `*` admits every name."""

    async def scenario() -> tuple[list[str], list[dict[str, Any]]]:
        async with Receiver() as receiver:
            table = {"good.test": ["127.0.0.1"], "evil.test": ["169.254.169.254"]}
            policy = TargetPolicy.from_patterns(["*"], resolve=lambda host, _port: table[host])
            enqueue(store, 1, stream="good", target=f"http://good.test:{receiver.port}/ok")
            enqueue(store, 1, stream="evil", target=f"http://evil.test:{receiver.port}/meta")
            w = DeliveryWorker(store.outbox, RetryPolicy(base=1, factor=2, cap=4, max_attempts=3), targets=policy,
                               clock=FakeClock())  # fmt: skip
            await w.run_once()
            return receiver.paths, store.outbox.journal("a")

    paths, journal = asyncio.run(scenario())
    assert paths == ["/ok"]
    by_stream = {d["stream"]: d for d in journal}
    assert by_stream["good"]["status"] == "delivered"
    assert by_stream["evil"]["status"] == "pending"
    assert (
        "host evil.test resolves to a private or reserved address 169.254.169.254"
        in (by_stream["evil"]["attempts"][0]["error"])
    )


def test_a_listener_that_hangs_holds_only_its_own_stream(store: SQLiteStore) -> None:
    """While one listener holds its delivery open, the other subscriber gets every message of its stream."""

    async def scenario() -> tuple[list[str], bool]:
        async with Receiver() as receiver:
            base = f"http://127.0.0.1:{receiver.port}"
            enqueue(store, 1, stream="slow", target=f"{base}/hang")
            enqueue(store, 5, stream="fast", target=f"{base}/fast")
            w = DeliveryWorker(store.outbox, RetryPolicy(base=1, factor=2, cap=4, max_attempts=3), timeout=600)
            stop = asyncio.Event()
            running = asyncio.ensure_future(w.run_forever(stop, poll_seconds=0.05))
            await receiver.hanging.wait()
            await receiver.five_fast.wait()  # while the hanging one is still held open
            still_hanging = not receiver.release.is_set()
            receiver.release.set()
            stop.set()
            await running
            return receiver.paths, still_hanging

    paths, still_hanging = asyncio.run(asyncio.wait_for(scenario(), 300))  # a guard against a hang, not a budget
    assert still_hanging
    assert paths[:5] == ["/fast"] * 5
    assert paths[5:] == ["/hang"]
