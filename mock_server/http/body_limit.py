"""ASGI middleware that admits a request's head and body before anything reads them whole: headers over the
limit (431), a body over the configured size (413), a body without a Content-Type (415).

A body sent without Content-Length (chunked) is read here, up to the limit, and handed on with its length set:
connexion takes a request without Content-Length for one without a body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pruefstand.mock_server.kernel.errors import HeadersTooLarge, PayloadTooLarge, UnsupportedMediaType

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_HEADER_BYTES = 64 * 1024  # all names and values together; the HTTP server's own limits come first


def header_bytes(scope: Scope) -> int:
    """All header names and values of a request together, as the limit counts them."""
    return sum(len(name) + len(value) for name, value in scope.get("headers", ()))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = header_bytes(scope)
        if size > MAX_HEADER_BYTES:
            raise HeadersTooLarge(f"Request Header Fields Too Large: {size} bytes, at most {MAX_HEADER_BYTES}")
        declared = self._declared_length(scope)
        if declared is None and scope.get("method") in _BODY_METHODS:
            scope, receive = await self._buffered(scope, receive)
            declared = self._declared_length(scope)
        elif declared is not None and declared > self.max_bytes:
            raise PayloadTooLarge(self._message(declared))
        if declared and not any(name == b"content-type" for name, _ in scope.get("headers", ())):
            raise UnsupportedMediaType(
                "Unsupported Media Type: a request body needs a Content-Type header naming its media type "
                "(application/json, or what the operation documents)"
            )
        await self.app(scope, self._counting(receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return None

    async def _buffered(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadTooLarge(self._message(size))
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"transfer-encoding"]
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return {**scope, "headers": headers}, replay

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise PayloadTooLarge(self._message(seen))
            return message

        return counting_receive

    def _message(self, size: int) -> str:
        return f"Payload Too Large: body of {size} bytes exceeds the limit of {self.max_bytes} bytes"
