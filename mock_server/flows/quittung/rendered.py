"""A receipt's documents (PDF/A-3 with its embedded invoice, the ZUGFeRD XML) rendered once and kept: their bytes are
fixed for an issued receipt (it can no longer change; the PDF's dates are the receipt's own), so a repeated request
answers from memory. A first render runs in a worker thread, never on the event loop: no request waits behind
another's CPU work. Each worker process keeps its own copies, bounded (least recently used go first)."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

MAX_BYTES = 64 * 1024 * 1024  # kept per worker process, all documents together


class RenderedDocuments:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._kept: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._size = 0
        self._max = max_bytes
        self._lock = threading.Lock()

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
        rendered = await asyncio.to_thread(render, receipt)
        with self._lock:
            if key not in self._kept and len(rendered) <= self._max:
                self._kept[key] = rendered
                self._size += len(rendered)
                while self._size > self._max:
                    _, dropped = self._kept.popitem(last=False)
                    self._size -= len(dropped)
        return rendered
