"""A Swagger UI for an API served by its own routes (TMF622 v5: connexion serves the UIs of the APIs it mounts),
from the same swagger-ui bundle connexion uses, pointed at the API's `openapi.json`."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

_FILES = ("swagger-ui.css", "index.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")


def _bundle() -> Path:
    import swagger_ui_bundle  # installed with connexion[swagger-ui]

    return Path(swagger_ui_bundle.swagger_ui_path)


def swagger_ui_routes(base_path: str, title: str) -> list[tuple[str, Callable[..., Any]]]:
    """The page at `<base>/ui/` and its files at `<base>/ui/<file>`."""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='swagger-ui.css'></head>"
        "<body><div id='swagger-ui'></div><script src='swagger-ui-bundle.js'></script>"
        "<script src='swagger-ui-standalone-preset.js'></script><script>"
        "window.ui = SwaggerUIBundle({url: '../openapi.json', dom_id: '#swagger-ui', "
        "presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});"
        "</script></body></html>"
    )

    async def index(_request: Request) -> Response:
        return HTMLResponse(page)

    async def asset(request: Request) -> Response:
        name = str(request.path_params.get("name", ""))
        if name not in _FILES:
            return Response(status_code=404)
        return FileResponse(_bundle() / name)

    return [(f"{base_path}/ui/", index), (f"{base_path}/ui/{{name}}", asset)]
