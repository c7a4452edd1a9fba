"""The delivery worker: claims due deliveries (first in their stream), posts them, records each attempt.

Several worker processes may run it at once: a delivery is leased to one of them; a lease that expires (the process
died mid-delivery) makes the delivery due again, so nothing is lost. Each message carries `X-Pruefstand-Delivery-Id`
so a receiver can drop the rare repeat after such a crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from pruefstand.mock_server.delivery.pinning import checked_client
from pruefstand.mock_server.delivery.policy import RetryPolicy
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.store import Outbox

logger = logging.getLogger(__name__)

DELIVERED, PENDING, DEAD = "delivered", "pending", "dead"
KEEPALIVE_SECONDS = 1.0
# The longest an idle worker waits without a wake (a commit here, another replica's NOTIFY, a delivery finished) or a
# retry or lease falling due: what another process committed without telling (SQLite has no NOTIFY) is seen then.
IDLE_SECONDS = 2.0
MAX_IN_FLIGHT = 100  # deliveries under way at once per worker process


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        policy: RetryPolicy,
        *,
        targets: TargetPolicy | None = None,
        timeout: float = 10.0,
        lease_seconds: float = 30.0,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._policy = policy
        self._targets = targets or TargetPolicy()
        self._lease = lease_seconds
        # Idle connections are dropped after a second: well before a receiver's own keep-alive timeout (uvicorn: 5 s,
        # the same as httpx's default), so a message never goes out on a connection the receiver is just closing.
        self._client_factory = client_factory or (
            lambda: checked_client(self._targets, timeout=timeout, keepalive_expiry=KEEPALIVE_SECONDS)
        )
        self._clock = clock
        self._owner = uuid.uuid4().hex
        self._wake: asyncio.Event | None = None  # belongs to the loop run_forever runs in
        self._loop_of_wake: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None  # kept open while run_forever runs (connections reused)

    def wake(self) -> None:
        """Something was enqueued and committed: look now instead of at the next poll. Safe from any thread (the
        handlers commit in worker threads; an asyncio.Event may only be set in its own loop)."""
        wake, loop = self._wake, self._loop_of_wake
        if wake is None or loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def run_once(self) -> int:
        """Deliver whatever is due now; returns how many attempts were made."""
        due = self._outbox.claim_due(self._clock(), self._owner, self._lease, limit=50)
        if not due:
            return 0
        # Streams are independent; within one stream only its head was claimed, so order holds. The kept client
        # belongs to run_forever's loop; a round run from another loop (an admin request) uses a client of its own.
        if self._client is not None and self._in_own_loop():
            await asyncio.gather(*(self._attempt(self._client, delivery) for delivery in due))
        else:
            async with self._client_factory() as client:
                await asyncio.gather(*(self._attempt(client, delivery) for delivery in due))
        return len(due)

    def _in_own_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop_of_wake
        except RuntimeError:
            return False

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.2) -> None:
        self._wake = wake = asyncio.Event()
        self._loop_of_wake = asyncio.get_running_loop()
        try:
            async with self._client_factory() as client:
                self._client = client
                await self._loop(stop, wake, poll_seconds)
        finally:
            self._wake = self._loop_of_wake = self._client = None

    async def _loop(self, stop: asyncio.Event, wake: asyncio.Event, poll_seconds: float) -> None:
        """Each claimed delivery is sent in a task of its own: a target that answers slowly (or not at all, until the
        timeout) holds its own stream only, never the others' (the next round claims while it waits)."""
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                logger.error("delivery failed", exc_info=task.exception())
            wake.set()  # the next message of that stream may be due now

        try:
            while not stop.is_set():
                room = MAX_IN_FLIGHT - len(in_flight)
                due: list[dict[str, Any]] = []
                claimed_at = self._clock()
                if room > 0:
                    try:
                        due = self._outbox.claim_due(claimed_at, self._owner, self._lease, limit=min(50, room))
                    except Exception:  # the loop must survive anything the store throws
                        logger.exception("claiming deliveries failed")
                client = self._client
                assert client is not None
                for delivery in due:
                    task = asyncio.ensure_future(self._attempt(client, delivery))
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if due:
                    continue
                wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
                timeout = self._idle_wait(claimed_at, poll_seconds)
                _, pending = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for waiter in pending:
                    waiter.cancel()
        finally:
            if in_flight:  # what is under way finishes (each bounded by the client's timeout) and is recorded
                await asyncio.gather(*in_flight, return_exceptions=True)

    def _idle_wait(self, claimed_at: float, poll_seconds: float) -> float:
        """Seconds until the next retry or lapsing lease after the claim at `claimed_at` (at least `poll_seconds`,
        at most IDLE_SECONDS); anything committed meanwhile wakes the worker sooner."""
        try:
            due = self._outbox.next_due(claimed_at)
        except Exception:  # the store is away: look again soon
            logger.exception("reading the next due delivery failed")
            return poll_seconds
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(poll_seconds, due - self._clock()))

    async def _attempt(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> None:
        """Send the delivery; once one is delivered, the next of its stream (claimed with the record of the last)
        follows in the same task, while it is due."""
        following: dict[str, Any] | None = delivery
        while following is not None:
            following = await self._send(client, following)

    async def _send(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> dict[str, Any] | None:
        target = str(delivery["target"])
        started = time.monotonic()
        status_code: int | None = None
        error = self._targets.refusal(target, resolve=False)  # the addresses are checked as the connection opens
        hopeless = error is not None  # never attempted: dead at once, the reason in the journal
        if error is None:
            headers = {**delivery["headers"], "X-Pruefstand-Delivery-Id": str(delivery["id"])}
            try:
                try:
                    response = await client.post(target, json=delivery["payload"], headers=headers)
                except httpx.RemoteProtocolError:
                    # a kept-alive connection the receiver closed as we sent: nothing was read, send once more on a
                    # fresh connection (the delivery id lets a receiver drop the rare repeat)
                    response = await client.post(target, json=delivery["payload"], headers=headers)
                status_code = response.status_code
                if not response.is_success:
                    error = f"answered {status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # e.g. httpx.InvalidURL: the message cannot be sent as it is
                error, hopeless = f"cannot be sent: {type(exc).__name__}: {exc}", True
        attempts = int(delivery["attempts"]) + 1
        delay = None if hopeless else self._policy.delay_after(attempts)
        status = DELIVERED if error is None else (DEAD if delay is None else PENDING)
        attempt = {
            "at": self._clock(),
            "status_code": status_code,
            "error": error,
            "latency_ms": round((time.monotonic() - started) * 1000, 3),
        }
        if status == DELIVERED:
            kept, following = self._outbox.finish_and_claim_next(
                delivery, self._owner, attempt, self._clock(), self._lease
            )
        else:
            kept = self._outbox.finish_attempt(
                int(delivery["id"]), self._owner, attempt, status, self._clock() + (delay or 0.0)
            )
            following = None
        if not kept:
            logger.warning("delivery %s: lease lost, attempt not recorded", delivery["id"])
        return following
