"""A listener for what a system under test sends out (events, backend callbacks): a real HTTP server on a local
port, in a background thread, that records every request and answers as the contracts of the receivers say: 201
for a TMF622 notification (`…/listener/<event>`), 200 `{}` for anything else. Scenarios await what it received."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    """One request that reached the listener."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


class _PromptServer(uvicorn.Server):
    """uvicorn looks at its exit flag every 0.1 s; this one also wakes the moment it is told to stop, so a replay or
    a test does not wait for the next look (uvicorn's own tick still runs every 0.1 s: the Date header and the rest)."""

    _woken: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 0.1)

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._woken is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._woken.set)


class CallbackListener:
    def __init__(self, on_received: Callable[[Received], None] | None = None) -> None:
        self._on_received = on_received
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.url = ""

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for_more(self, seen: int, timeout: float) -> bool:
        """Block until more than `seen` requests have arrived (True) or `timeout` seconds passed (False)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._received) > seen, max(0.0, timeout))

    def _app(self) -> Starlette:
        async def record(request: Request) -> Response:
            raw = await request.body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            entry = Received(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                at=time.time(),
            )
            with self._arrived:
                self._received.append(entry)
                self._arrived.notify_all()
            if self._on_received is not None:
                self._on_received(entry)
            if "/listener/" in entry.path:  # a TMF622 notification: the listener contract's 201, no body
                return Response(status_code=201)
            return JSONResponse({})  # a MaCo backend call: 200 with a JSON object

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST", "PUT", "PATCH"])])

    @contextmanager
    def serving(self, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> Iterator[str]:
        """Listen on host:port (0: any free port) until the block ends; yields the URL senders should use."""
        config = uvicorn.Config(self._app(), host=host, port=port, log_level="critical", lifespan="off")
        server = _PromptServer(config)
        thread = threading.Thread(target=server.run, name="pruefstand-listener", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the listener could not start on {host}:{port}")
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        self.url = (public_url or f"http://{host}:{bound}").rstrip("/")
        try:
            yield self.url
        finally:
            server.stop()
            thread.join(timeout=10)
