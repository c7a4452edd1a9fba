"""Start-up, CLI and replay times (not part of CI): medians of `--repeat` runs, each in a fresh interpreter where the
point is start-up. The baseline measured in the same run is the bare interpreter (`python -c pass`).

- CLI: `pruefstand --help`, every subcommand's `--help`, a usage error, and `pruefstand example maco inbound
  Z41_Marktlokation`, whole processes (goal: each help and usage error within 0.3 s).
- App build: `create_app` in a fresh process, with the resolved-contract cache cold (empty folder) and warm.
- Replay: the in-process KUE-LE scenario (`scenarios/tmf622/termination_by_seller.yaml`, 26 steps), set-up included,
  in one process: the first run (imports included) and the median of the following runs.

    .venv/bin/python bench/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRUEFSTAND = str(Path(sys.executable).with_name("pruefstand"))
BUILD = """
import time
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.kernel.settings import load_settings
import dataclasses
settings = dataclasses.replace(load_settings(env={}), db=":memory:", admin_token="bench")
started = time.perf_counter()
create_app(settings)
print(time.perf_counter() - started)
"""
REPLAY = """
import time, statistics
from click.testing import CliRunner
from pruefstand.mock_server.cli import main
times = []
for _ in range(REPEAT):
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["replay", "scenarios/tmf622/termination_by_seller.yaml"])
    assert result.exit_code == 0, result.output
    times.append(time.perf_counter() - started)
print(times[0], statistics.median(times[1:]))
"""


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, cwd=ROOT, env=env)
    assert done.returncode in (0, 2), done.stderr  # 2: click's usage error, measured on purpose
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    bare = statistics.median(wall([sys.executable, "-c", "pass"]) for _ in range(repeat))
    print(f"bare interpreter: {bare * 1000:.0f} ms")
    for label, command in (
        ("pruefstand --help", [PRUEFSTAND, "--help"]),
        ("pruefstand example maco inbound Z41_Marktlokation", [PRUEFSTAND, "example", "maco", "inbound",
                                                                "Z41_Marktlokation"]),
        *((f"pruefstand {name} --help", [PRUEFSTAND, name, "--help"])
          for name in ("serve", "fuzz", "replay", "lint", "proxy", "listen", "scenarios", "example")),
        ("pruefstand serve --no-such-option (a usage error)", [PRUEFSTAND, "serve", "--no-such-option"]),
    ):  # fmt: skip
        median = statistics.median(wall(command) for _ in range(repeat))
        print(f"{label}: {median * 1000:.0f} ms ({median / bare:.1f}x the bare interpreter)")
    with tempfile.TemporaryDirectory() as cache:
        cold_times, warm_times = [], []
        for _ in range(repeat):
            for entry in Path(cache).iterdir():
                entry.unlink()
            env = {**os.environ, "PRUEFSTAND_CACHE_DIR": cache}
            cold = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, env=env, check=True)
            warm = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, env=env, check=True)
            cold_times.append(float(cold.stdout))
            warm_times.append(float(warm.stdout))
    cold, warm = statistics.median(cold_times), statistics.median(warm_times)
    print(f"create_app in a fresh process: {cold * 1000:.0f} ms with the contract cache cold, "
          f"{warm * 1000:.0f} ms warm ({cold / warm:.1f}x)")  # fmt: skip
    replay = subprocess.run([sys.executable, "-c", REPLAY.replace("REPEAT", str(max(repeat, 2)))], capture_output=True,
                            text=True, cwd=ROOT, check=True)  # fmt: skip
    first, later = (float(x) for x in replay.stdout.split())
    print(f"in-process KUE-LE replay (26 steps, set-up included): first {first * 1000:.0f} ms (imports included), "
          f"then {later * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
