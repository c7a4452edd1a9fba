"""The HTTP/1.1 connection as the kit serves it: uvicorn's httptools protocol with read deadlines and its own
protocol-level refusals in the API's error shape.

- A request's head must arrive within `read_timeout` seconds of its first byte, and its body within `read_timeout`
  of the head: otherwise the client gets a 408 in the shape of the API the path belongs to and the connection is
  closed (a stalled client, e.g. one whose Content-Length promises more than it sends, never holds a task for ever).
  A connection that sends nothing at all is closed quietly after the same time.
- A request the parser refuses (a bad request line, an unknown method, Content-Length with Transfer-Encoding, a
  negative length) gets a JSON answer naming what was wrong instead of uvicorn's plain-text "Invalid HTTP request
  received.": 501 for an unknown method (RFC 9110 §9.1), 414 for a request target over 16 KiB, 431 for an over-long
  head, else 400.
"""

from __future__ import annotations

from asyncio import TimerHandle, Transport
from typing import Any, ClassVar, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pruefstand.mock_server.http.errors import edge_answer
from pruefstand.mock_server.http.journal import TIMEOUT_KEY

_PHRASES = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large",
            501: b"Not Implemented"}  # fmt: skip
MAX_URL_BYTES = 16 * 1024  # a request target longer than this is answered 414 (RFC 9110 §15.5.15)


class UrlTooLong(Exception):
    """Raised in the parser's URL callback to stop reading a request target over MAX_URL_BYTES."""


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with read deadlines and refusals in the kit's shape (see the module)."""

    read_timeout: ClassVar[float] = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: TimerHandle | None = None
        self._reading_head = False

    @classmethod
    def with_timeout(cls, seconds: float) -> type[DeadlineProtocol]:
        return type("DeadlineProtocol", (cls,), {"read_timeout": seconds})

    # the deadlines
    def _arm(self, handler: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._silent_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._arm(self._head_expired)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            raise UrlTooLong

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()
        self._arm(self._body_expired)  # disarmed by on_message_complete, at once for a request without a body

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _silent_expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing() and self.cycle is None:
            self.transport.close()

    def _head_expired(self) -> None:
        self._deadline = None
        seconds = f"{self.read_timeout:g}"
        self._refuse(408, f"Request Timeout: the request's head did not arrive within {seconds} s")

    def _body_expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is None or cycle.response_complete or self.transport.is_closing():
            return
        message = f"Request Timeout: the request body did not arrive within {self.read_timeout:g} s of its head"
        scope = cast(dict[str, Any], cycle.scope)  # the kit's own key on the request's scope
        scope[TIMEOUT_KEY] = message
        if not cycle.response_started:
            self._write_answer(408, message, str(cycle.scope.get("path", "")))
        cycle.disconnected = True  # what the app still sends is dropped; its receive() says http.disconnect
        cycle.message_event.set()
        self.transport.close()

    # the parser's refusals
    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, UrlTooLong) or len(getattr(self, "url", b"")) > MAX_URL_BYTES:
                self._refuse(414, f"URI Too Long: the request target is longer than {MAX_URL_BYTES} bytes", path="")
                return
            reason = str(exc).strip().rstrip(".") or "malformed"
            status = 501 if "method" in reason.lower() else 431 if "overflow" in reason.lower() else 400
            self._refuse(status, f"the request is not valid HTTP/1.1: {reason}")

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, msg)

    def _refuse(self, status: int, message: str, *, path: str | None = None) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:  # mid-answer: just close
            self.transport.close()
            return
        self._write_answer(status, message, self._path() if path is None else path)
        self.transport.close()

    def _path(self) -> str:
        url = bytes(getattr(self, "url", b"") or b"")
        try:
            return httptools.parse_url(url).path.decode("ascii", "replace") if url else ""
        except httptools.HttpParserInvalidURLError:
            return ""

    def _write_answer(self, status: int, message: str, path: str) -> None:
        body, media_type = edge_answer(path, status, message)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _PHRASES.get(status, b"Error"))]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: " + media_type.encode("latin-1") + b"\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
