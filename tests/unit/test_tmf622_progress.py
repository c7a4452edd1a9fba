"""The TMF622 background progress runs one planned step (one transaction) at a time and lets the event loop serve
requests in between: hundreds of orders created in a second fall due together five seconds later, and answering
them in one go held every request behind them (order creation's p99 of 190-300 ms, issue 25)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from pruefstand.mock_server.flows.tmf622.mount import progress_orders


class OneSandbox:
    def sandboxes_with(self, kind: str, field: str, value: str) -> list[str]:  # noqa: ARG002 (the store's signature)
        return ["s"]


def test_requests_are_served_between_two_planned_steps() -> None:
    seen: list[str] = []

    def due_steps(sandbox: str) -> Iterator[int]:
        for number in range(5):
            seen.append(f"step {number} in {sandbox}")
            yield 1

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(progress_orders(due_steps, OneSandbox(), stop, every=60))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # the task takes its first step
        for number in range(3):  # a request answered while the steps are due
            seen.append(f"request {number}")
            await asyncio.sleep(0)
        stop.set()
        await task

    asyncio.run(scenario())
    steps: Any = [i for i, text in enumerate(seen) if text.startswith("step")]
    requests = [i for i, text in enumerate(seen) if text.startswith("request")]
    assert len(steps) == 5
    assert requests[0] < steps[-1], seen  # a request came before the last step, not after all of them
