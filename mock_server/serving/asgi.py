"""Entry point for ASGI servers: builds the app from settings the CLI resolved (or from the environment)."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
from pathlib import Path
from typing import Any

from connexion import AsyncApp

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.http.console_lines import BatchedConsole
from pruefstand.mock_server.kernel.parent_death import die_with_parent
from pruefstand.mock_server.kernel.settings import ExtraApi, Settings, load_settings, sections_from_data

RESOLVED_SETTINGS_ENV = "PRUEFSTAND_RESOLVED_SETTINGS"


def settings_to_json(settings: Settings) -> str:
    data = dataclasses.asdict(settings)
    data["extra_apis"] = [{"spec": str(a.spec), "base_path": a.base_path} for a in settings.extra_apis]
    return json.dumps(data)


def settings_from_json(text: str) -> Settings:
    data: dict[str, Any] = json.loads(text)
    sections = sections_from_data(data.pop("sections"))
    extra = tuple(ExtraApi(Path(a["spec"]), a["base_path"]) for a in data.pop("extra_apis"))
    return Settings(**data, extra_apis=extra, sections=sections)


def create_app_from_env() -> AsyncApp:
    """Factory for `uvicorn --factory pruefstand.mock_server.serving.asgi:create_app_from_env` (each worker)."""
    resolved = os.environ.get(RESOLVED_SETTINGS_ENV)
    settings = settings_from_json(resolved) if resolved else load_settings().with_admin_token()
    die_with_parent()  # a worker of a multi-process server: never outlive the supervisor
    if settings.request_log and settings.log_level not in ("error", "critical"):
        show_requests()
    app = create_app(settings)
    # What start-up built (contracts, validators, routes: most of a worker's objects) lives as long as the worker:
    # kept out of the collector's full passes, which otherwise walk it all (60+ ms, a stall in every request waiting
    # meanwhile) every few thousand requests. Served workers only: an in-process replay or test pays no collection.
    gc.collect()
    gc.freeze()
    return app


def show_requests() -> None:
    """One line per request on stderr (pruefstand.requests at INFO), whatever the server's own log level."""
    console = logging.getLogger("pruefstand.requests")
    if not console.handlers:
        handler = BatchedConsole()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        console.addHandler(handler)
    console.setLevel(logging.INFO)
    console.propagate = False
