"""The MaCo flow's admin operations (specs/maco/admin.yaml): its processes and the sandbox's customer backend."""

from __future__ import annotations

from typing import Any

from pruefstand.mock_server.flows.maco.callbacks import Backend, BackendCallbacks
from pruefstand.mock_server.flows.maco.service import TriggerService
from pruefstand.mock_server.kernel.answers import Answer, json_answer
from pruefstand.mock_server.kernel.errors import NotFound


class MacoAdmin:
    def __init__(self, triggers: TriggerService, callbacks: BackendCallbacks) -> None:
        self._triggers = triggers
        self._callbacks = callbacks

    def operations(self) -> dict[str, Any]:
        return {
            "list_maco_processes": self.list_maco_processes,
            "get_maco_process": self.get_maco_process,
            "get_maco_backend": self.get_maco_backend,
            "set_maco_backend": self.set_maco_backend,
        }

    async def list_maco_processes(
        self,
        sandbox: str,
        prozess_id: str | None = None,
        eventname: str | None = None,
    ) -> Answer:
        return json_answer(self._triggers.processes(sandbox, prozess_id=prozess_id, eventname=eventname))

    async def get_maco_process(self, sandbox: str, business_key: str) -> Answer:
        return json_answer(self._triggers.process(sandbox, business_key))

    async def get_maco_backend(self, sandbox: str) -> Answer:
        backend = self._callbacks.backend(sandbox)
        if backend is None:
            raise NotFound(f"sandbox {sandbox!r} has no MaCo backend; PUT one to receive callbacks")
        return json_answer({"url": backend.url, "hasToken": bool(backend.token)})

    async def set_maco_backend(self, sandbox: str, body: dict[str, Any]) -> Answer:
        self._callbacks.set_backend(sandbox, Backend(url=body["url"], token=body.get("token", "")))
        return json_answer({"url": body["url"], "hasToken": bool(body.get("token"))})
