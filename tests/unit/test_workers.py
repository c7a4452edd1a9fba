"""The worker supervisor gives up on workers that die as they start, instead of restarting them for ever."""

from __future__ import annotations

import sys

import pytest

from pruefstand.mock_server.serving.launch import ServerOptions
from pruefstand.mock_server.serving.workers import WorkersFailed, serve_workers


def dying_at_once(*_args: object) -> None:
    sys.exit(3)


def test_workers_dying_as_they_start_end_the_supervisor_with_the_reason() -> None:
    with pytest.raises(WorkersFailed, match=r"3 workers in a row exited within 10 s of their start .*exit code 3"):
        serve_workers("127.0.0.1", 0, 2, ServerOptions(), target=dying_at_once)
