"""The MACO APP's error body: EVENT_FAIL {errorCode, message}."""

from __future__ import annotations

from pruefstand.mock_server.kernel.error_shapes import Body


def event_fail(status: int, message: str) -> Body:
    return {"errorCode": str(status), "message": message}, "application/json"
