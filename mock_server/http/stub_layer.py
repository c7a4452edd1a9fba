"""The stub layer, first in the stack: a request a sandbox's stub mapping matches is answered by the stub (WireMock's
semantics: priority, scenarios, templated answers, fixed delays, faults), before any flow, fast path or partner
contract sees it; everything else goes on unchanged. Every stubbed answer is journaled with the stub's id.

Not stubbable: the admin API and the health check (a stub must never lock a test out of the mock's controls).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from pruefstand.mock_server.http.body_limit import MAX_HEADER_BYTES, header_bytes
from pruefstand.mock_server.http.fast_path import read_body, replaying
from pruefstand.mock_server.http.journal import BODY_KEY, BODY_LIMIT, STUB_KEY, Journal, record_exchange
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name
from pruefstand.mock_server.stubs.patterns import Request
from pruefstand.mock_server.stubs.service import Answer, Stubs, answer
from pruefstand.mock_server.stubs.templating import TemplateError

logger = logging.getLogger(__name__)
_NOT_STUBBED = ("/_admin", "/healthz")


class StubLayer:
    def __init__(self, app: ASGIApp, *, stubs: Stubs, journal: Journal, max_body_bytes: int) -> None:
        self.app = app
        self.stubs = stubs
        self.journal = journal
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(_NOT_STUBBED) or header_bytes(scope) > MAX_HEADER_BYTES:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        try:
            sandbox = sandbox_name(headers.get(SANDBOX_HEADER.lower()))
        except MockError:  # the layers below say what is wrong with the name
            await self.app(scope, receive, send)
            return
        if not self.stubs.any_for(sandbox) or _declared_length(headers) > self.max_body_bytes:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        raw, more = await read_body(receive)
        if more is not None or len(raw) > self.max_body_bytes:
            await self.app(scope, replaying(raw, more, receive), send)
            return
        request = Request(
            method=str(scope.get("method", "GET")),
            path=path,
            query=(scope.get("query_string") or b"").decode("latin-1"),
            headers=headers,
            body=raw.decode("utf-8", "replace"),
        )
        stub = self.stubs.match(sandbox, request)
        if stub is None:
            scope[BODY_KEY] = raw[:BODY_LIMIT]
            await self.app(scope, replaying(raw, None, receive), send)
            return
        try:
            given = answer(stub, request, _base_url(scope, headers))
        except TemplateError as exc:
            given = Answer(500, [("Content-Type", "text/plain")], f"stub {stub.id}: {exc}".encode(), 0, None)
        self.stubs.served(sandbox, stub)
        scope[STUB_KEY] = stub.id
        if given.delay_ms:
            await asyncio.sleep(given.delay_ms / 1000)
        if given.fault:
            await _fault(send, given)
            record_exchange(self.journal, scope, raw, b"", {"status": given.status, "headers": []},
                            time.perf_counter() - started, fault=given.fault)  # fmt: skip
            return
        pairs = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in given.headers]
        pairs = [p for p in pairs if p[0] != b"content-length"] + [(b"content-length", str(len(given.body)).encode())]
        await send({"type": "http.response.start", "status": given.status, "headers": pairs})
        await send({"type": "http.response.body", "body": given.body})
        record_exchange(self.journal, scope, raw, given.body, {"status": given.status, "headers": pairs},
                        time.perf_counter() - started)  # fmt: skip


def _declared_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length") or 0)
    except ValueError:
        return 0


def _base_url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host") or "localhost"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _fault(send: Send, given: Answer) -> None:
    """WireMock's faults, as the kit's `drop` fault does them: the answer starts and is cut off, the connection
    closes (an ASGI app cannot close a connection before an answer starts). MALFORMED_RESPONSE_CHUNK and
    RANDOM_DATA_THEN_CLOSE send some bytes first, EMPTY_RESPONSE and CONNECTION_RESET_BY_PEER none."""
    declared = 1024
    await send({"type": "http.response.start", "status": given.status,
                "headers": [(b"content-length", str(declared).encode())]})  # fmt: skip
    garbage = os.urandom(64) if given.fault in ("RANDOM_DATA_THEN_CLOSE", "MALFORMED_RESPONSE_CHUNK") else b""
    await send({"type": "http.response.body", "body": garbage, "more_body": True})
