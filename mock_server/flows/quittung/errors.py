"""Strom-Quittung's error body: `{err}`, as the real service's clients read it (Node-RED checks `response.err`)."""

from __future__ import annotations

from pruefstand.mock_server.kernel.error_shapes import Body


def quittung_error(_status: int, message: str) -> Body:
    return {"err": message}, "application/json"
