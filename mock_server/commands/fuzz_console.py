"""What `pruefstand fuzz` prints while it runs and when it ends (secrets are masked before events reach it)."""

from __future__ import annotations

from collections.abc import Mapping

import click

from pruefstand.contracts.fuzzing import FuzzEvent, FuzzFinished, FuzzStarted, OperationFuzzed
from pruefstand.mock_server.commands.fuzz_progress import FuzzProgress
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER


class FuzzConsole:
    def __init__(self, url: str | None, headers: Mapping[str, str], phases: tuple[str, ...]) -> None:
        self._url, self._headers, self._phases = url, headers, phases
        self._progress: FuzzProgress | None = None

    def show(self, event: FuzzEvent) -> None:
        if isinstance(event, FuzzStarted):
            self._progress = FuzzProgress(event.operations, self._phases)
            where = self._url or "the mock in-process"
            click.echo(f"Fuzzing {event.title} ({event.operations} operations) at {where}, seed {event.seed}")
            sandbox = next((v for k, v in self._headers.items() if k.lower() == SANDBOX_HEADER.lower()), None)
            if self._url and sandbox:
                click.echo(f"  in sandbox {sandbox} (its own; give -H '{SANDBOX_HEADER}: <name>' to choose)")
        elif isinstance(event, OperationFuzzed):
            self._operation(event)
        elif self._progress is not None and self._progress.stateful_cases:
            cases = self._progress.stateful_cases
            click.echo(f"  stateful  {'sequences along the links':<45} {cases:>6} cases  ok")

    def _operation(self, event: OperationFuzzed) -> None:
        progress = self._progress
        assert progress is not None
        if event.phase == "stateful" and not event.findings:
            heartbeat = progress.stateful(event.cases)
            if heartbeat:
                click.echo(heartbeat)
            return
        verdict = "ok" if not event.findings else click.style(f"{len(event.findings)} finding(s)", fg="red")
        done = progress.operation_done() if event.phase != "stateful" else ""
        click.echo(f"  {event.phase:<9} {event.operation:<45} {event.cases:>6} cases  {verdict}{done}")

    @staticmethod
    def summary(finished: FuzzFinished) -> None:
        for finding in finished.findings:
            click.echo(
                f"\nFAIL {finding.operation}: {finding.title} [{finding.code} {finding.check}]\n{finding.message}"
            )
            click.echo(f"Reproduce with:\n  {finding.reproduce}")
        for error in finished.errors:
            click.echo(f"\nERROR {error}")
        summary = (
            "no findings" if finished.ok else f"{len(finished.findings)} finding(s), {len(finished.errors)} error(s)"
        )
        click.echo(f"\n{finished.cases} requests in {finished.seconds:.1f} s: {summary}")
