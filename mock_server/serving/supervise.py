"""The supervisor of `serve --workers N` as a lean process of its own: `serve` checks the settings, the contracts and
the state file (loading much of the kit), then replaces itself (same process id, same signals, same output) with
`python -m pruefstand.mock_server.serving.supervise`, which imports only what starting, watching and stopping the
workers takes. The workers read the resolved settings from the environment, as before."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pruefstand.mock_server.serving.launch import ServerOptions, run_announced
from pruefstand.mock_server.serving.workers import WorkersFailed, serve_workers


def become_supervisor(
    host: str, port: int, workers: int, options: ServerOptions, banner: Sequence[str], ready_file: Path | None
) -> None:
    """Replace this process by the lean supervisor (never returns)."""
    plan = {
        "host": host,
        "port": port,
        "workers": workers,
        "options": [options.log_level, options.access_log, options.read_timeout],
        "banner": list(banner),
        "ready_file": str(ready_file) if ready_file else None,
    }
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", __name__, json.dumps(plan)])


def main(argv: Sequence[str]) -> int:
    plan = json.loads(argv[0])
    options = ServerOptions(*plan["options"])
    ready_file = Path(plan["ready_file"]) if plan["ready_file"] else None

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        run_announced(
            plan["host"],
            plan["port"],
            plan["banner"],
            ready_file,
            echo=echo,
            serve=lambda: serve_workers(plan["host"], plan["port"], plan["workers"], options),
        )
    except WorkersFailed as exc:
        echo(f"Error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
