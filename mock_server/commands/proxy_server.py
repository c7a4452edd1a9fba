"""The validating proxy: sits between a partner's client and a real implementation, forwards every request as it
came and every answer as it left, and checks both against the contract on the way (Prism's proxy mode and
WireMock's recorder in one).

Nothing is refused or changed: a request that breaks the contract still reaches the implementation, a broken answer
still reaches the client. Every problem is reported live (one line per exchange, then one per problem), kept in a
journal (`GET /_proxy/requests`, the mock journal's shape and filters), and each exchange can be recorded into a
scenario file that `pruefstand replay` runs (`contracts.scenarios.recording`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pruefstand.contracts.exchange_check import ExchangeChecker, json_or_none
from pruefstand.contracts.scenarios.recording import SECRET_HEADERS, RecordedExchange, ScenarioRecorder
from pruefstand.mock_server.http.journal import BODY_LIMIT, cut_body, matches
from pruefstand.mock_server.http.redaction import redacted_query
from pruefstand.mock_server.kernel.private_files import write_private
from pruefstand.mock_server.stubs.recording import MappingRecorder

JOURNAL_PATH = "/_proxy/requests"
# hop-by-hop headers (RFC 9110 7.6.1) and what httpx sets itself
_NOT_FORWARDED = frozenset({"host", "content-length", "connection", "keep-alive", "proxy-connection", "te",
                            "trailer", "transfer-encoding", "upgrade", "proxy-authorization"})  # fmt: skip
_NOT_RETURNED = frozenset({"content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"})


class ProxyJournal:
    """The last `size` exchanges in memory, newest first on reading."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({**entry, "seq": self._seq})

    def entries(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        failed: bool | None = None,
        violations: bool | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        with self._lock:
            found = list(reversed(self._entries))
        return [
            e
            for e in found
            if matches(e, method=method, path=path, status=status, failed=failed)
            and (violations is None or bool(e["violations"]["request"] or e["violations"]["answer"]) == violations)
        ][:limit]


class ValidatingProxy:
    """The proxy's state: the contract's checker, where to forward, the journal and the optional recorder."""

    def __init__(
        self,
        checker: ExchangeChecker,
        upstream: str,
        *,
        recorder: ScenarioRecorder | None = None,
        record_file: Path | None = None,
        on_exchange: Callable[[dict[str, Any]], None] | None = None,
        timeout: float = 30.0,
        mappings: MappingRecorder | None = None,
    ) -> None:
        self.checker = checker
        self.upstream = upstream.rstrip("/")
        self.recorder = recorder
        self.record_file = record_file
        self.mappings = mappings
        self.journal = ProxyJournal()
        self.on_exchange = on_exchange
        self.timeout = timeout
        self._record_lock = threading.Lock()
        self.counts = {"exchanges": 0, "request_violations": 0, "answer_violations": 0}
        self.on_stop: Callable[[], None] | None = None  # told once the server has stopped taking exchanges

    def app(self) -> Starlette:
        client: dict[str, httpx.AsyncClient] = {}

        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as opened:
                client["upstream"] = opened
                yield
            if self.on_stop is not None:  # Ctrl-C or SIGTERM: the server stops cleanly, then re-raises the signal
                self.on_stop()

        async def journal(request: Request) -> Response:
            try:
                query = request.query_params
                status = int(query["status"]) if "status" in query else None
                limit = int(query.get("limit", "100"))
            except ValueError:
                return JSONResponse({"error": "status and limit are whole numbers"}, status_code=400)
            found = self.journal.entries(
                method=query.get("method"),
                path=query.get("path"),
                status=status,
                failed=_flag(query.get("failed")),
                violations=_flag(query.get("violations")),
                limit=max(0, limit),
            )
            return JSONResponse(found)

        async def forward(request: Request) -> Response:
            return await self._forward(request, client["upstream"])

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        return Starlette(
            routes=[Route(JOURNAL_PATH, journal, methods=["GET"]), Route("/{path:path}", forward, methods=methods)],
            lifespan=lifespan,
        )

    async def _forward(self, request: Request, client: httpx.AsyncClient) -> Response:
        started = time.perf_counter()
        body = await request.body()
        path = request.url.path
        query = request.url.query
        headers = {k.lower(): v for k, v in request.headers.items()}
        checked = self.checker.check_request(request.method, path, query, headers, body)
        sent_headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        url = self.upstream + path + (f"?{query}" if query else "")
        try:
            answer = await client.request(request.method, url, headers=sent_headers, content=body)
        except httpx.HTTPError as exc:
            reason = f"the upstream {self.upstream} could not be reached: {type(exc).__name__} {exc}".strip()
            response: Response = JSONResponse({"error": "bad_gateway", "message": reason}, status_code=502)
            answer_bytes, answer_headers, status = bytes(response.body), {"content-type": "application/json"}, 502
            answer_problems = [f"upstream: {reason}"]
        else:
            answer_bytes, status = answer.content, answer.status_code
            answer_headers = {k.lower(): v for k, v in answer.headers.items()}
            answer_problems = (
                [str(v) for v in self.checker.check_response(checked.operation, status, answer_headers, answer_bytes)]
                if checked.operation is not None
                else []
            )
            returned = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _NOT_RETURNED]
            response = Response(content=answer_bytes, status_code=status)
            response.raw_headers = [
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in returned),
                (b"content-length", str(len(answer_bytes)).encode()),
            ]
        request_problems = [str(v) for v in checked.violations]
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "method": request.method,
            "path": path,
            "query": redacted_query(query[:BODY_LIMIT]),
            "operation": checked.operation.operation_id if checked.operation else None,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "request": {"headers": _kept(headers), "body": cut_body(body)},
            "response": {"headers": _kept(answer_headers), "body": cut_body(answer_bytes)},
            "violations": {"request": request_problems, "answer": answer_problems},
        }
        self.journal.add(entry)
        self.counts["exchanges"] += 1
        self.counts["request_violations"] += bool(request_problems)
        self.counts["answer_violations"] += bool(answer_problems)
        if self.recorder is not None and status != 502:
            recorded = RecordedExchange(
                operation_id=checked.operation.operation_id if checked.operation else None,
                method=request.method,
                path=path,
                path_params=checked.operation.path_params if checked.operation else {},
                query=[(k, v) for k, v in request.query_params.multi_items()],
                headers=headers,
                body=checked.body,
                form=checked.form,
                body_bytes=len(body),
                status=status,
                answer=json_or_none(answer_bytes),
                request_problems=request_problems,
                answer_problems=answer_problems,
            )
            await asyncio.to_thread(self._record, recorded)  # the file is rewritten: not on the event loop
        if self.mappings is not None and status != 502:
            url = path + (f"?{query}" if query else "")
            await asyncio.to_thread(self.mappings.add, request.method, url, headers, body, status, answer_headers,
                                    answer_bytes)  # fmt: skip
        if self.on_exchange is not None:
            self.on_exchange(entry)
        return response

    def _record(self, exchange: RecordedExchange) -> None:
        assert self.recorder is not None
        with self._record_lock:
            self.recorder.add(exchange)
            if self.record_file is not None:  # written after every exchange: a killed proxy loses nothing
                write_private(self.record_file, self.recorder.yaml())


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.lower() in ("1", "true", "yes")


def _kept(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("(not kept)" if k in SECRET_HEADERS else v[:200]) for k, v in headers.items()}
