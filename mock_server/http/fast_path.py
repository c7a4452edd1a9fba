"""A flow's creating POST without connexion's per-request plumbing (routing twice, security, parameter and body
decoding, context, serialisation): the same checks, from the same contract and the same services, in one step. A
flow declares it (`Flow.fast_path`): the MaCo trigger, TMF622's productOrder, Strom-Quittung's create.

Only a request that passes every check is answered here: a JSON body (with a bearer token that verifies, where the
operation takes one), a body the contract's compiled validator accepts, and work the service does. Anything else,
including every refusal, is handed on unchanged to the connexion stack, which answers exactly as it does without this
layer (the body already read is given to it again). The answer is the one connexion would send, byte for byte
(tested); it is checked against the contract's schema for its status like every answer.

It stands in front of connexion's middleware (`MockApp.front`) and does the part of the layers it skips: it takes
only requests those layers would pass untouched (headers and a declared body within the limits, no fault asked for or
possible in the sandbox), and journals what it answers as the journal's layer does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pruefstand.contracts import parse_json_body
from pruefstand.mock_server.http.body_limit import MAX_HEADER_BYTES, header_bytes
from pruefstand.mock_server.http.faults import FaultRules, from_prefer
from pruefstand.mock_server.http.journal import Journal, record_exchange
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name
from pruefstand.mock_server.store import UnitOfWork
from pruefstand.mock_server.store.group_commit import GroupCommit

logger = logging.getLogger(__name__)
_JSON = "application/json"
_SANDBOX = SANDBOX_HEADER.lower()

# the unit of work, the sandbox, the stored answer and the request's headers (lower-case names) -> the body to send and
# the headers besides content-type and content-length
Presenter = Callable[[UnitOfWork, str, Any, Mapping[str, str]], tuple[Any, list[tuple[bytes, bytes]]]]


class _Request:
    """What the bearer check reads of a request: its headers (lower-case names, the first of a repeated one counts,
    as for starlette's `Headers`) and query parameters."""

    def __init__(self, headers: Mapping[str, str], query_string: bytes = b"") -> None:
        self.headers = headers
        self.query_params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


class _Headers(dict[str, str]):
    """A request's headers by lower-case name, the first of a repeated one (as starlette's `Headers`); `get` takes
    a name in any case (the bearer check asks for `X-Pruefstand-Sandbox`)."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        for name, value in raw:
            self.setdefault(name.decode("latin-1"), value.decode("latin-1"))

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


def _as_stored(_uow: UnitOfWork, _sandbox: str, answer: Any, _headers: Mapping[str, str]) -> tuple[Any, list[Any]]:
    return answer, []


class FastPathMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        verify: Callable[[str, Any], Mapping[str, Any]] | None,
        journal: Journal,
        faults: FaultRules,
        max_body_bytes: int,
        body_violations: Callable[[Any], list[Any]],
        answer_violations: Callable[[Any], list[Any]],
        prepare: Callable[[str, Mapping[str, Any]], Any],
        apply: Callable[[UnitOfWork, Any], Any],
        commits: GroupCommit,
        max_depth: int,
        present: Presenter | None = None,
        declined: frozenset[str] = frozenset(),
        takes_query: bool = True,
        status: int = 201,
    ) -> None:
        self.app = app
        self.journal = journal
        self.faults = faults
        self.max_body_bytes = max_body_bytes
        self.path = path
        self.verify = verify
        self.body_violations = body_violations
        self.answer_violations = answer_violations
        self.prepare = prepare
        self.apply = apply
        self.commits = commits
        self.max_depth = max_depth
        self.present = present or _as_stored
        self.declined = declined
        self.takes_query = takes_query
        self.status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = _Headers(scope["headers"])
        authorization = headers.get("authorization") or ""
        media = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if (
            media != _JSON
            or (self.verify is not None and not authorization.lower().startswith("bearer "))
            or not self._admissible(scope, headers)
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        raw, more = await read_body(receive)
        if more is not None:  # the client went away mid-body: let the normal path see it as it is
            await self.app(scope, replaying(raw, more, receive), send)
            return
        answer = await self._answer(_Request(headers, scope.get("query_string", b"")), authorization[7:].strip(), raw)
        if answer is None:
            await self.app(scope, replaying(raw, None, receive), send)
            return
        body = (json.dumps(answer[0]) + "\n").encode("utf-8")
        answer_headers = [*answer[1], (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": self.status, "headers": answer_headers})
        await send({"type": "http.response.body", "body": body})
        seconds = time.perf_counter() - started
        record_exchange(self.journal, scope, raw, body, {"status": self.status, "headers": answer_headers}, seconds)

    def _admissible(self, scope: Scope, headers: Mapping[str, str]) -> bool:
        """What the layers the fast path stands in front of would let through untouched: headers and a declared body
        within the limits (a chunked body is theirs to buffer), no fault asked for or possible in the sandbox; and
        nothing the flow's fast path does not do (a header it declines, a query where it takes none)."""
        if header_bytes(scope) > MAX_HEADER_BYTES or (not self.takes_query and scope.get("query_string")):
            return False
        if any(name in headers for name in self.declined):
            return False
        try:
            declared = int(headers.get("content-length") or "")
            if not 0 < declared <= self.max_body_bytes or from_prefer(headers.get("prefer")) is not None:
                return False
            return not self.faults.any_for(sandbox_name(headers.get(_SANDBOX)))
        except (ValueError, MockError):  # no or a malformed length, preference or sandbox: the normal path says so
            return False

    async def _answer(self, request: _Request, token: str, raw: bytes) -> tuple[Any, list[Any]] | None:
        """The answer's body and extra headers when every check passes, else None (the normal path answers, and
        says why)."""
        try:
            sandbox = (
                sandbox_name(request.headers.get(_SANDBOX))
                if self.verify is None
                else str(self.verify(token, request)["sandbox"])
            )
            body = parse_json_body(raw, max_depth=self.max_depth, refuse_nul=True)
        except Exception:  # a token refused (connexion's Unauthenticated), a malformed body: the normal path says why
            return None
        if not isinstance(body, dict) or self.body_violations(body):
            return None
        try:
            work = self.prepare(sandbox, body)

            def answered(uow: UnitOfWork) -> tuple[Any, list[Any]]:
                """The stored answer as sent; one that breaks the contract is not committed."""
                shown, headers = self.present(uow, sandbox, self.apply(uow, work), request.headers)
                problems = self.answer_violations(shown)
                if problems:
                    raise _BrokenAnswer("; ".join(map(str, problems)))
                return shown, headers

            # with the writes that arrive meanwhile, in one transaction; answered once committed
            return await self.commits.run(answered)
        except MockError:  # a refusal (rule layers, a reused prozessId): answered, identically, by the normal path
            return None
        except _BrokenAnswer as exc:  # the mock's own answer breaks its contract: a defect; the normal path answers it
            logger.error("the mock's answer breaks its own contract: %s", exc)
            return None
        except Exception:  # a defect or the store failing: the normal path runs it again and answers in the API's shape
            logger.exception("the fast path of %s failed; the request goes the normal way", self.path)
            return None


class _BrokenAnswer(Exception):
    """The answer the fast path would send breaks the contract: its transaction is rolled back."""


async def read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what came before a message that is not more body (returned so it can be replayed)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def replaying(raw: bytes, extra: Message | None, receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": raw, "more_body": False}]
    if extra is not None:
        pending = [{"type": "http.request", "body": raw, "more_body": True}, extra]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
