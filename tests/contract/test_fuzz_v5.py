"""`pruefstand fuzz tmf622-v5` in-process: the kit's own v5 routes against the official v5 contract (its own file, so
the suite's workers share the fuzzing)."""

from __future__ import annotations

from pruefstand.contracts.fuzzing import FuzzFinished, FuzzOptions
from pruefstand.contracts.fuzzing import fuzz as run_fuzz
from pruefstand.mock_server.commands.fuzz_target import in_process_target
from pruefstand.mock_server.kernel.settings import load_settings


def test_the_v5_routes_have_no_findings_in_the_example_fuzzing_and_stateful_phases() -> None:
    """`pruefstand fuzz tmf622-v5` runs every phase (its coverage phase alone sends some 56,000 requests to the
    official v5 contract's large schemas: 0 findings, about five minutes); CI runs the other phases."""
    target = in_process_target("tmf622-v5", load_settings(env={}), {})
    options = FuzzOptions(seed=1, max_examples=10, phases=("examples", "fuzzing", "stateful"))
    [finished] = [e for e in run_fuzz(target, options) if isinstance(e, FuzzFinished)]
    assert finished.findings == ()
    assert finished.errors == ()
    assert finished.cases > 100
