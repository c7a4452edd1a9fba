"""The CI job the README shows (scripts/ci-job): it starts the mock, waits for readiness, replays and fuzzes, and
leaves JUnit files a CI system keeps; CI runs it as a partner's pipeline would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from pruefstand.mock_server.serving.process_hygiene import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_ci_job_runs_and_keeps_its_junit_reports(tmp_path: Path) -> None:
    env = {**os.environ, "PORT": str(free_port()), "REPORTS": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "ci-job")], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenario(s):" in done.stdout
    assert "0 failed" in done.stdout
    assert "no findings" in done.stdout
    for name in ("replay.xml", "fuzz.xml"):
        suite = ElementTree.parse(tmp_path / name).getroot()
        assert suite.tag in ("testsuite", "testsuites")
        assert 'failures="0"' in ElementTree.tostring(suite, encoding="unicode") or suite.get("failures") == "0"
