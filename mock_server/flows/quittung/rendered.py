"""A receipt's documents (PDF/A-3 with its embedded invoice, the ZUGFeRD XML) rendered once and kept: their bytes are
fixed for an issued receipt (it can no longer change; the PDF's dates are the receipt's own), so a repeated request
answers from memory. A first render runs in a render process of its own (started at the first render, one per
serving worker): never on the event loop, and not beside it in a thread either, where the render's 140 ms of Python
would still hold the interpreter lock the loop needs (/healthz p99 26 ms beside a client fetching new PDFs:
bench/healthz_beside_pdfs.py). A render that cannot go to a process (a function not importable by name) runs in a
thread. Each worker process keeps its own copies, bounded (least recently used go first)."""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pruefstand.mock_server.kernel.parent_death import die_with_parent

MAX_BYTES = 64 * 1024 * 1024  # kept per worker process, all documents together


class RenderedDocuments:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._kept: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._size = 0
        self._max = max_bytes
        self._lock = threading.Lock()
        self._processes: ProcessPoolExecutor | None = None

    async def _render(self, render: Callable[[Mapping[str, Any]], bytes], receipt: Mapping[str, Any]) -> bytes:
        if not _importable(render):
            return await asyncio.to_thread(render, receipt)
        if self._processes is None:
            self._processes = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(self._processes, render, dict(receipt))
        except BrokenProcessPool:  # the render process died (killed, out of memory): a new one next time
            self._processes = None
            return await asyncio.to_thread(render, receipt)

    def close(self) -> None:
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)
            self._processes = None

    async def get(
        self, kind: str, sandbox: str, receipt: Mapping[str, Any], render: Callable[[Mapping[str, Any]], bytes]
    ) -> bytes:
        """The document `kind` of `receipt`: kept bytes, else rendered in a thread and kept. The key names the receipt
        by number and issue instant (numbers are never handed out twice, also after a sandbox reset)."""
        key = (kind, sandbox, str(receipt["token"]), str(receipt.get("issuedAt", "")))
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        rendered = await self._render(render, receipt)
        with self._lock:
            if key not in self._kept and len(rendered) <= self._max:
                self._kept[key] = rendered
                self._size += len(rendered)
                while self._size > self._max:
                    _, dropped = self._kept.popitem(last=False)
                    self._size -= len(dropped)
        return rendered


def _importable(render: Callable[..., Any]) -> bool:
    """Whether a render process can find the function by its module and name (a test's stand-in cannot)."""
    module, name = getattr(render, "__module__", None), getattr(render, "__qualname__", "")
    if not module or "<" in name:
        return False
    try:
        return getattr(importlib.import_module(module), name, None) is render
    except ImportError:
        return False
