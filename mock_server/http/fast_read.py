"""A flow's read of a record by id answered before connexion's plumbing (a flow declares it: `Flow.fast_reads`):
measured on one such read, about 40 % of its CPU went to connexion's layers (routing twice, security, parameter
decoding and validation, context, response serialisation and validation), 6 % to the read itself.

Only the plain case is answered here: GET of `<prefix><id>` with no query, no preference or header the flow declines,
headers
within the limits, no fault asked for or possible in the sandbox, and a record the flow finds. Anything else (an
unknown id, a `fields` selection, a profile chosen per request) goes to the connexion stack unchanged, which answers
as it always did. The answer is the one connexion sends, byte for byte (tested); it is journaled as the journal's
layer does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from pruefstand.mock_server.http.body_limit import MAX_HEADER_BYTES, header_bytes
from pruefstand.mock_server.http.faults import FaultRules
from pruefstand.mock_server.http.journal import Journal, record_exchange
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name

logger = logging.getLogger(__name__)
# a preference asks for something the plain read does not do (faults, an answer of another kind): the normal way
_PREFER = b"prefer"
_SANDBOX = SANDBOX_HEADER.lower()

# sandbox, id, the request's headers (lower-case names) -> the answer's body, or None (the normal path answers)
Reader = Callable[[str, str, Mapping[str, str]], bytes | None]


class FastReadMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        read: Reader,
        journal: Journal,
        faults: FaultRules,
        declined: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.declined = frozenset({_PREFER, *(name.lower().encode("latin-1") for name in declined)})
        self.prefix = prefix
        self.read = read
        self.journal = journal
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._answer(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, headers = answer
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        response = {"status": 200, "headers": headers}
        record_exchange(self.journal, scope, b"", body, response, time.perf_counter() - started)

    def _answer(self, scope: Scope) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
        path: str = scope["path"]
        if not path.startswith(self.prefix) or scope.get("query_string") or header_bytes(scope) > MAX_HEADER_BYTES:
            return None
        record_id = path[len(self.prefix) :]
        if not record_id or "/" in record_id:
            return None
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name in self.declined:
                return None
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        try:
            sandbox = sandbox_name(headers.get(_SANDBOX))
            if self.faults.any_for(sandbox):
                return None
            body = self.read(sandbox, record_id, headers)
        except MockError:  # a malformed sandbox name, an unknown record: the normal path says so
            return None
        except Exception:  # a defect or the store failing: the normal path runs it again and answers in the API's shape
            logger.exception("the fast read of %s failed; the request goes the normal way", path)
            return None
        if body is None:
            return None
        return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
