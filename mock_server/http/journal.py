"""The request journal: every request to the mock's APIs and its answer, per sandbox, in a bounded ring in the store
(so every worker process and every replica sees the same journal), plus one concise console line per request.

Recording is off the request path: the middleware queues an entry in memory; a background task (and any read of
the journal) writes the queue in one unit of work. Bodies are cut at `BODY_LIMIT` characters; credentials (headers,
token fields of forms, JSON bodies and query strings: redaction.py) are never kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pruefstand.mock_server.http.redaction import redacted_query, redacted_text
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name
from pruefstand.mock_server.store import Store

KIND = "journal"
COUNTER = "journal"
BODY_LIMIT = 2000
MAX_HEADERS = 50  # request headers kept per entry
STUB_KEY = "pruefstand.stub"  # set by the stub layer: the id of the stub mapping that answered
BODY_KEY = "pruefstand.body"  # set by the stub layer: the request body it read (for the journal of what it passed on)
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
_KEPT_HEADERS = frozenset({"content-type", "content-length", "accept", "user-agent", "prefer", "x-request-id",
                           SANDBOX_HEADER.lower(), "x-pruefstand-profile", "location"})  # fmt: skip
_NOT_JOURNALED = ("/_admin", "/healthz")
console = logging.getLogger("pruefstand.requests")
FAULT_KEY = "pruefstand.fault"  # set by the fault middleware (faults.SCOPE_KEY)
CLIENT_GONE = 499  # as nginx names it: the client closed the connection before its request was read
FORM_KEY = "pruefstand.form"  # a form body as it was read, whole (a handler may need its repeated fields)
TIMEOUT_KEY = "pruefstand.timeout"  # set by the HTTP protocol when a body did not arrive in time: answered 408


class Journal:
    """The ring of the last `size` exchanges per sandbox, in the store under kind `journal`."""

    def __init__(self, store: Store, size: int = 500) -> None:
        self._store = store
        self.size = size
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(entry)

    def flush(self) -> int:
        """Write what was recorded since the last flush; returns how many entries."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending or self.size <= 0:
            return 0
        by_sandbox: dict[str, list[dict[str, Any]]] = {}
        for entry in pending:
            by_sandbox.setdefault(str(entry["sandbox"]), []).append(entry)
        with self._store.transaction() as uow:
            for sandbox, entries in by_sandbox.items():
                # the last `size` entries are all the ring keeps: older ones of this batch would be overwritten
                numbers = uow.take_counters(sandbox, COUNTER, len(entries))
                kept = list(zip(numbers, entries, strict=True))[-self.size :]
                uow.put_many(
                    sandbox, KIND, [(str(number % self.size), {**entry, "seq": number}) for number, entry in kept]
                )
        return len(pending)

    def entries(
        self,
        sandbox: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        failed: bool | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first; `path` matches a part of the path, `failed` the 4xx/5xx answers (or the others)."""
        self.flush()
        # by time first: processes write their entries in batches, so numbers follow the writes, not the requests
        found = sorted(self._store.find(sandbox, KIND), key=lambda e: (str(e["at"]), int(e["seq"])), reverse=True)
        return [e for e in found if matches(e, method=method, path=path, status=status, failed=failed)][:limit]

    async def run_forever(self, stop: asyncio.Event, every: float = 0.05) -> None:
        # small batches often: a flush holds the store's write lock, and a long one is a stall in every request
        while not stop.is_set():
            try:
                if not await self._flush_beside():
                    return
            except Exception:  # the journal must never take the mock down
                logging.getLogger(__name__).exception("writing the request journal failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        await self._flush_beside()

    async def _flush_beside(self) -> bool:
        """Flush in a thread beside the loop. When the loop takes no more threads (its executor shut down by
        asyncio.run ending a lifespan that never ended, or the interpreter exiting; concurrent.futures then says
        "cannot schedule new futures"), flush here and return False: there is no more loop to write from."""
        try:
            await asyncio.to_thread(self.flush)
        except RuntimeError as exc:
            if not (sys.is_finalizing() or "cannot schedule new futures" in str(exc)):
                raise
            self.flush()
            return False
        return True


class JournalMiddleware:
    """Outermost ASGI layer: sees each request as it came and the answer as it left (error answers included)."""

    def __init__(self, app: ASGIApp, *, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not journaled(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_body: bytearray = bytearray()
        response_body: bytearray = bytearray()
        answer: dict[str, Any] = {"status": 500, "headers": ()}
        form = _is_form(scope)
        if form:
            scope[FORM_KEY] = bytearray()

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                if len(request_body) < BODY_LIMIT:
                    request_body.extend(message.get("body", b"")[: BODY_LIMIT - len(request_body) + 1])
                if form:
                    scope[FORM_KEY].extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                answer["headers"] = message.get("headers", ())
            elif message["type"] == "http.response.body" and len(response_body) < BODY_LIMIT:
                response_body.extend(message.get("body", b"")[: BODY_LIMIT - len(response_body) + 1])
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            # a body nobody below read (an unknown path): the one an outer layer read already, if it did
            body = bytes(request_body) or bytes(scope.get(BODY_KEY, b""))
            record_exchange(self.journal, scope, body, bytes(response_body), answer, time.perf_counter() - started)


def _is_form(scope: Scope) -> bool:
    return any(
        name == b"content-type" and value.startswith(b"application/x-www-form-urlencoded")
        for name, value in scope.get("headers", ())
    )


def journaled(scope: Scope) -> bool:
    """Whether the journal keeps this request (not the admin API, the health check, the UIs and their documents)."""
    path = str(scope.get("path", ""))
    return (
        scope["type"] == "http"
        and path != "/"  # the index page
        and not path.startswith(_NOT_JOURNALED)
        and not path.endswith("/openapi.json")
        and "/ui/" not in path  # the Swagger UIs and their files
    )


def record_exchange(
    journal: Journal,
    scope: Scope,
    request_body: bytes,
    response_body: bytes,
    answer: Mapping[str, Any],
    seconds: float,
    *,
    fault: str | None = None,
) -> None:
    """One exchange into the journal and onto the console: `answer` holds the status and the answer's headers (ASGI
    pairs of bytes)."""
    request_headers, named = _kept(scope.get("headers", ()), every=True)
    try:
        sandbox = sandbox_name(named)
    except MockError:  # a malformed sandbox name was answered with a 400; journal it under default
        sandbox = "default"
    response_text = cut_body(response_body)
    status = int(answer["status"])
    if scope.get(TIMEOUT_KEY):  # answered 408 by the protocol; what the app made of the cut request went nowhere
        status, response_text = 408, json.dumps({"message": str(scope[TIMEOUT_KEY])})
    elif status == CLIENT_GONE:
        response_text = json.dumps({"message": "the client closed the connection before its request was read"})
    kept_answer, _ = _kept(answer["headers"])
    entry: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "sandbox": sandbox,
        "method": str(scope.get("method", "")),
        "path": str(scope.get("path", "")),
        "query": redacted_query((scope.get("query_string") or b"").decode("latin-1")[:BODY_LIMIT]),
        "status": status,
        "ms": round(seconds * 1000, 1),
        "request": {"headers": request_headers, "body": cut_body(request_body)},
        "response": {"headers": kept_answer, "body": response_text},
    }
    if scope.get(FAULT_KEY) or fault:
        entry["fault"] = str(fault or scope[FAULT_KEY])
    if scope.get(STUB_KEY):
        entry["stub"] = str(scope[STUB_KEY])
    problem = first_problem(response_text) if status >= 400 else None
    if problem:
        entry["problem"] = problem
    journal.record(entry)
    if console.isEnabledFor(logging.INFO):
        line = f"{entry['method']} {entry['path']} sandbox={sandbox} {status} {entry['ms']}ms"
        marks = f"  [fault: {entry['fault']}]" if "fault" in entry else ""
        marks += f"  [stub: {entry['stub']}]" if "stub" in entry else ""
        console.info(line + (f"  {problem}" if problem else "") + marks)


def matches(
    entry: Mapping[str, Any], *, method: str | None, path: str | None, status: int | None, failed: bool | None
) -> bool:
    """The journal's filters: a method, a part of the path, a status, failed (4xx/5xx) or not."""
    return (
        (method is None or entry["method"] == method.upper())
        and (path is None or path in entry["path"])
        and (status is None or entry["status"] == status)
        and (failed is None or (int(entry["status"]) >= 400) == failed)
    )


def first_problem(body: str) -> str | None:
    """The first thing an error answer says (TMF `message`, problem `detail`, MaCo `errors`, Quittung `err`, RFC
    6749 `error_description`), cut to one line."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.strip().splitlines()[0][:200] if body.strip() else None
    if not isinstance(parsed, dict):
        return None
    for key in ("message", "detail", "err", "error_description", "errorMessage", "error"):
        value = parsed.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("message") or value.get("text") or json.dumps(value, ensure_ascii=False)
        if isinstance(value, str) and value:
            return value.split("; ")[0][:200]
    return None


_SANDBOX = SANDBOX_HEADER.lower().encode("latin-1")
_LOOKED_AT = frozenset(h.encode("latin-1") for h in _KEPT_HEADERS | _SECRET_HEADERS)


def _kept(raw: Any, *, every: bool = False) -> tuple[dict[str, str], str | None]:
    """The headers the journal keeps (credentials named, never kept), read from ASGI pairs in one pass decoding only
    what is kept; and the sandbox header's value. A request keeps `every` header but credentials (the first
    MAX_HEADERS, for verification by header); an answer the usual few."""
    kept: dict[str, str] = {}
    secret: list[str] = []
    sandbox: str | None = None
    for name, value in raw:
        lowered = bytes(name).lower()
        if not (every and len(kept) < MAX_HEADERS) and lowered not in _LOOKED_AT:
            continue
        text = lowered.decode("latin-1")
        if text in _SECRET_HEADERS:
            secret.append(text)
            continue
        decoded = bytes(value).decode("latin-1")
        if lowered == _SANDBOX:
            sandbox = decoded
        kept[text] = decoded[:200]
    kept.update(dict.fromkeys(secret, "(not kept)"))
    return kept, sandbox


def cut_body(body: bytes) -> str:
    """A body as the journal keeps it: text, cut after BODY_LIMIT bytes, credentials' values not kept."""
    text = redacted_text(bytes(body[:BODY_LIMIT]).decode("utf-8", errors="replace"))
    return text + " …(cut)" if len(body) > BODY_LIMIT else text
