"""The pipeline files of docs/CI.md run as written, against the mock as the implementation: GitHub Actions' steps and
GitLab CI's script, each in a workspace holding the page's pruefstand.toml and a copy of the bundled scenarios.

Left out, each for a reason: the install line (the kit is installed here; PATH points at it), the actions that only
exist on a CI service (checkout, setup-python, upload-artifact, the JUnit summary) and the nightly stateful step (it
runs for up to 15 minutes by design). Port 8080 becomes a free port, so two runs never meet.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import GUARD

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "ci"
BIN = Path(sys.executable).parent


def github_commands() -> list[str]:
    workflow = yaml.safe_load((PAGE / "github-actions.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["conformance"]["steps"]
    return [
        step["run"]
        for step in steps
        if "run" in step and step.get("name") != "Install pruefstand" and "schedule" not in str(step.get("if", ""))
    ]


def gitlab_commands() -> list[str]:
    job = yaml.safe_load((PAGE / "gitlab-ci.yml").read_text(encoding="utf-8"))["conformance"]
    return [line for line in job["script"] if not line.startswith("pip install")]


@pytest.mark.parametrize("service", ["github", "gitlab"])
def test_the_ci_page_pipeline_runs_against_the_mock(service: str, tmp_path: Path) -> None:
    port = str(free_port())
    commands = github_commands() if service == "github" else gitlab_commands()
    assert any("pruefstand fuzz" in c for c in commands)
    assert any("pruefstand replay" in c for c in commands)
    assert any("pruefstand ready" in c for c in commands)
    (tmp_path / ".git").mkdir()  # the workspace is a repository's root: the config search stops here
    config = (PAGE / "pruefstand.toml").read_text(encoding="utf-8").replace("8080", port)
    (tmp_path / "pruefstand.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        ["pruefstand", "scenarios", "copy", "conformance/scenarios", "--flow", "quittung"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=GUARD,
    )
    script = "set -euo pipefail\n" + "\n".join(c.replace("8080", port) for c in commands) + "\n"
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the server the script starts in the background ends with the group below
    )
    try:
        output, _ = process.communicate(timeout=GUARD)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
    assert process.returncode == 0, output
    assert "ready" in output
    assert "no findings" in output
    assert "scenario(s):" in output
    reports = tmp_path / "reports"
    for name in ("fuzz-junit.xml", "fuzz-checks.jsonl", "fuzz-failing.har", "fuzz.md", "replay-junit.xml", "replay.md"):
        assert (reports / name).stat().st_size > 0, name
    outcomes = [json.loads(line) for line in (reports / "fuzz-checks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {o["phase"] for o in outcomes} <= {"examples", "coverage", "fuzzing"}
    assert all(o["request"]["url"].startswith(f"http://127.0.0.1:{port}/v2.0/") for o in outcomes)
    assert json.loads((reports / "fuzz-failing.har").read_text(encoding="utf-8"))["log"]["entries"] == []
    shutil.rmtree(tmp_path / "conformance")


def test_the_page_shows_the_files_it_describes_and_every_configuration_key() -> None:
    from pruefstand.mock_server.commands.fuzz import fuzz
    from pruefstand.mock_server.commands.replay import replay
    from pruefstand.mock_server.commands.run_config import command_schema

    page = (ROOT / "docs" / "CI.md").read_text(encoding="utf-8")
    for name in ("github-actions.yml", "gitlab-ci.yml", "pruefstand.toml"):
        assert (PAGE / name).read_text(encoding="utf-8") in page, f"docs/CI.md shows another {name}"
    keys = {*command_schema(fuzz), *command_schema(replay)}
    missing = sorted(key for key in keys if f"| `{key}` |" not in page)
    assert missing == [], f"docs/CI.md, Configuration file: keys not listed: {missing}"
