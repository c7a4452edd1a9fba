"""The console line per request, written in batches from the event loop."""

from __future__ import annotations

import asyncio
import io
import logging

from pruefstand.mock_server.console_lines import BatchedConsole


class _Counted(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.console.{id(handler)}")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_lines_from_the_event_loop_go_out_together_after_the_delay_in_their_order() -> None:
    stream = _Counted()
    logger = _logger(BatchedConsole(stream, delay=0.05))

    async def requests() -> tuple[str, str]:
        for number in range(5):
            logger.info("POST /maco/inbound %d", number)
        before = stream.getvalue()
        await asyncio.sleep(0.1)
        return before, stream.getvalue()

    before, after = asyncio.run(requests())
    assert before == ""
    assert after == "".join(f"POST /maco/inbound {n}\n" for n in range(5))
    assert stream.writes == 1


def test_a_full_batch_is_written_at_once_and_flush_writes_what_is_kept() -> None:
    stream = _Counted()
    handler = BatchedConsole(stream, delay=60, most=3)
    logger = _logger(handler)

    async def requests() -> str:
        for number in range(4):
            logger.info("line %d", number)
        return stream.getvalue()

    assert asyncio.run(requests()) == "line 0\nline 1\nline 2\n"
    handler.flush()  # as logging does at exit
    assert stream.getvalue().endswith("line 3\n")


def test_lines_from_outside_an_event_loop_are_written_at_once() -> None:
    stream = _Counted()
    _logger(BatchedConsole(stream)).info("from a thread")
    assert stream.getvalue() == "from a thread\n"
