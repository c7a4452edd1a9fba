"""The console line per request, written in batches by a thread of its own: requests never wait for the console.

A write per request on the event loop cost a system call and, under load, a handover of the interpreter lock to the
store's background threads and back (about 25 µs a request, measured with one worker: 204–209 against 179–181 µs of
CPU per trigger). And a console nobody reads (a harness that pipes `serve`'s output and reads it only at the end)
fills its pipe after 64 KiB, after which every write blocks: the whole mock stopped answering. Here a request only
appends its line; the writer thread writes what has gathered every `delay` seconds, in one write. While the console
cannot take more, at most `most` lines wait and the rest are counted and said dropped once it can (the request
journal in the store keeps every request either way)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO


class BatchedConsole(logging.Handler):
    def __init__(self, stream: TextIO | None = None, *, delay: float = 0.05, most: int = 10_000) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self._delay = delay
        self._most = most
        self._kept: list[str] = []
        self._dropped = 0
        self._guard = threading.Lock()  # the kept lines
        self._writing = threading.Lock()  # one write at a time (the thread, or flush at exit)
        self._waiting = threading.Event()  # lines are kept: the thread wakes only then
        self._thread: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # logging's own convention: a broken record is reported, never raised
            self.handleError(record)
            return
        with self._guard:
            if len(self._kept) >= self._most:
                self._dropped += 1
            else:
                self._kept.append(line)
            self._waiting.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pruefstand-console", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Write what is kept now (logging calls it at exit)."""
        with self._writing:
            with self._guard:
                lines, self._kept = self._kept, []
                dropped, self._dropped = self._dropped, 0
                self._waiting.clear()
            if dropped:
                lines.append(
                    f"… {dropped} console line(s) dropped: the console was not read meanwhile "
                    "(the request journal has every request)"
                )
            if not lines:
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except Exception:  # the console went away (a closed pipe): nothing to tell it
                return

    def _run(self) -> None:
        while True:
            self._waiting.wait()  # an idle console costs no wake-ups
            time.sleep(self._delay)  # the lines of the next `delay` seconds go in the same write
            self.flush()
