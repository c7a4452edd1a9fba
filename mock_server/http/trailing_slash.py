"""ASGI middleware: a trailing slash on an API path is the same path (`/productOrder/` answers as `/productOrder`).

Starlette would answer with a 307 whose Location is built from the request's Host header, which a client controls;
here nothing is redirected. The Swagger UI's own paths (`…/ui/`) keep their slash, which the UI needs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            if len(path) > 1 and path.endswith("/") and not _is_ui(path):
                stripped = path.rstrip("/") or "/"
                raw = scope.get("raw_path")
                scope = {**scope, "path": stripped}
                if isinstance(raw, bytes):
                    scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


def _is_ui(path: str) -> bool:
    return "/ui/" in path or path.endswith("/ui")
