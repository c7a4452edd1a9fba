"""Overall progress of a fuzz run: counts, share, elapsed and time left; a heartbeat in the stateful phase."""

from __future__ import annotations

from pruefstand.mock_server.commands.fuzz_progress import FuzzProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_counts_operation_phases_and_estimates_the_rest() -> None:
    clock = FakeClock()
    progress = FuzzProgress(10, ("examples", "coverage", "fuzzing", "stateful"), now=clock)
    assert progress.total == 30
    clock.now += 1
    assert progress.operation_done() == ""  # short runs stay quiet
    clock.now += 9  # 10 s for 2 of 30: 5 s each, 28 left
    assert progress.operation_done() == "  [2/30 7%, 0:10 elapsed, about 2:20 left]"
    for _ in range(28):
        last = progress.operation_done()
    assert last == "  [30/30 100%, 0:10 elapsed]"


def test_the_stateful_phase_reports_every_ten_seconds() -> None:
    clock = FakeClock()
    progress = FuzzProgress(2, ("stateful",), now=clock)
    assert progress.total == 0
    clock.now += 4
    assert progress.stateful(7) is None
    clock.now += 7
    assert progress.stateful(5) == "  stateful  sequences along the links: 12 cases so far, 0:11 elapsed"
    clock.now += 3
    assert progress.stateful(1) is None
    assert progress.stateful_cases == 13
