"""The console line per request: written in batches by a thread of its own, never blocking the request."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable

from pruefstand.mock_server.http.console_lines import BatchedConsole
from tests.conftest import GUARD


class _Console(io.StringIO):
    """A console that counts its writes and can be made to stand still (a pipe nobody reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.open = threading.Event()
        self.open.set()

    def write(self, text: str) -> int:
        self.open.wait()
        self.writes += 1
        return super().write(text)


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.console.{id(handler)}")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _until(condition: Callable[[], object], seconds: float = GUARD) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_lines_go_out_together_in_their_order_and_not_from_the_request() -> None:
    console = _Console()
    logger = _logger(BatchedConsole(console, delay=0.2))

    for number in range(5):
        logger.info("POST /maco/inbound %d", number)
    written_by_the_requests = console.getvalue()
    _until(lambda: console.getvalue())

    assert written_by_the_requests == ""
    assert console.getvalue() == "".join(f"POST /maco/inbound {n}\n" for n in range(5))
    assert console.writes == 1


def test_a_console_nobody_reads_never_holds_a_request_and_the_lines_it_missed_are_counted() -> None:
    console = _Console()
    handler = BatchedConsole(console, delay=0.01, most=3)
    logger = _logger(handler)
    logger.info("first")
    _until(lambda: console.getvalue())
    console.open.clear()  # the pipe is full from here on
    logger.info("stuck in the writer")
    time.sleep(0.1)  # the writer thread now waits in its write

    started = time.monotonic()
    for number in range(10):
        logger.info("line %d", number)
    assert time.monotonic() - started < 0.5  # the requests went on

    console.open.set()
    _until(lambda: "dropped" in console.getvalue())
    text = console.getvalue()
    assert "first\nstuck in the writer\n" in text
    assert "line 0\nline 1\nline 2\n" in text
    assert "line 3" not in text
    assert "… 7 console line(s) dropped: the console was not read meanwhile" in text


def test_flush_writes_what_is_kept() -> None:
    console = _Console()
    handler = BatchedConsole(console, delay=60)
    _logger(handler).info("at exit")
    handler.flush()  # as logging does at exit
    assert console.getvalue() == "at exit\n"
