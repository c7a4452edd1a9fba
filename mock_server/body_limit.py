"""ASGI middleware that refuses request bodies over the configured size before anything reads them whole.

A body sent without Content-Length (chunked) is read here, up to the limit, and handed on with its length set:
connexion takes a request without Content-Length for one without a body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import PayloadTooLarge

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = self._declared_length(scope)
        if declared is None and scope.get("method") in _BODY_METHODS:
            scope, receive = await self._buffered(scope, receive)
        elif declared is not None and declared > self.max_bytes:
            raise PayloadTooLarge(self._message(declared))
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
