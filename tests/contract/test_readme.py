"""The README is executable: every bash, Python and TOML block runs in CI, in order, as a reader would run them.

Like a reader, the harness has the server running (`bash scripts/serve`, state in a fresh folder) and the shipped
listener (`pruefstand listen`) in "another terminal", and runs the blocks one after another in one shell: variables
set in one block are there in the next. The only change to a block is the port numbers (8080 the server, 8081 the
proxy, 9000 the listener become free ports). A block is skipped only with `<!-- readme: skip — reason -->` just above
it (a template that needs a partner's own URL); `<!-- readme: expect=TEXT -->` adds text the output must contain.
A block fails on a non-zero exit (`set -euo pipefail`), or a traceback or an Internal Server Error in its output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import GUARD

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_MARKER = re.compile(r"<!--\s*readme:\s*(?P<body>.*?)\s*-->")
_FAILURE_SIGNS = ("Traceback (most recent call last)", "Internal Server Error", "command not found")


@dataclass
class Block:
    language: str
    line: int
    text: str
    skip: str | None = None
    expect: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.language}-line-{self.line}"


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.fullmatch(r"```(\w*)\s*", lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        block = Block(opening[1], index + 1, "\n".join(lines[index + 1 : end]) + "\n")
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.search(before)
        if marker:
            for part in marker["body"].split(";"):
                part = part.strip()
                if part.startswith("skip"):
                    block.skip = part.removeprefix("skip").strip(" —-:") or "(no reason)"
                elif part.startswith("expect="):
                    block.expect.append(part.removeprefix("expect="))
        if block.language in ("bash", "python", "toml"):
            blocks.append(block)
        index = end + 1
    return blocks


BLOCKS = readme_blocks()


@dataclass
class Terminal:
    """The reader's working folder (the clone's .venv, scenarios, specs, tests linked in), ports and shell state."""

    folder: Path
    ports: dict[str, int]
    env_file: Path
    env: dict[str, str]

    def adapted(self, text: str) -> str:
        for written, port in self.ports.items():
            text = re.sub(rf"(?<=127\.0\.0\.1:){written}\b", str(port), text)
            text = re.sub(rf"(?<=--port ){written}\b", str(port), text)
        return text


@pytest.fixture(scope="module")
def terminal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    folder = tmp_path_factory.mktemp("reader")
    for name in (".venv", "scenarios", "specs", "tests", "scripts", "pyproject.toml"):
        (folder / name).symlink_to(ROOT / name)
    ports = {"8080": free_port(), "8081": free_port(), "9000": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUEFSTAND_")}
    env.update({"PRUEFSTAND_PORT": str(ports["8080"]), "PRUEFSTAND_DB": str(folder / "pruefstand.db"),
                "PRUEFSTAND_WORKERS": "1", "NO_COLOR": "1"})  # fmt: skip
    server = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve")], env=env, cwd=folder,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    listener = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "pruefstand"), "listen", "--port", str(ports["9000"]), "--record",
         str(folder / "events.jsonl")], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + GUARD
        for url in (f"http://127.0.0.1:{ports['8080']}/healthz", f"http://127.0.0.1:{ports['9000']}/"):
            while True:
                try:
                    httpx.post(url, timeout=2) if url.endswith("/") else httpx.get(url, timeout=2)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.communicate()[0]
                    assert time.monotonic() < deadline, f"{url} did not answer"
                    time.sleep(0.2)
        shell_env = {k: v for k, v in env.items() if not k.startswith("PRUEFSTAND_")}
        yield Terminal(folder, ports, folder / ".shell-env", shell_env)
    finally:
        for process in (server, listener):
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=GUARD)
            except subprocess.TimeoutExpired:
                process.kill()


def test_only_templates_are_skipped_and_each_says_why() -> None:
    skipped = [b for b in BLOCKS if b.skip]
    assert all(b.skip and b.skip != "(no reason)" for b in skipped)
    assert len(skipped) <= 4, [b.id for b in skipped]
    assert {b.language for b in BLOCKS} == {"bash", "python", "toml"}


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs_as_written(block: Block, terminal: Terminal) -> None:
    if block.skip:
        pytest.skip(block.skip)
    if block.language == "bash":
        output = _bash(block, terminal)
    elif block.language == "python":
        output = _python(block, terminal)
    else:
        config = terminal.folder / "pruefstand.toml"
        config.write_text(block.text, encoding="utf-8")
        load_settings(config, env={})  # a wrong key or value raises, naming it
        output = ""
    if os.environ.get("README_TEST_SHOW"):
        print(f"\n===== README line {block.line}\n{output[-3000:]}")
    for sign in _FAILURE_SIGNS:
        assert sign not in output, f"README line {block.line}: {sign!r} in the output:\n{output}"
    for text in block.expect:
        assert text in output, f"README line {block.line}: expected {text!r} in the output:\n{output}"


def _bash(block: Block, terminal: Terminal) -> str:
    script = (
        "set -euo pipefail\nset -a\n"
        f"[ -f {terminal.env_file} ] && source {terminal.env_file}\n"
        f"{terminal.adapted(block.text)}\n"
        f"export -p | grep -v -E '^declare -x (PWD|OLDPWD|SHLVL|_)=' > {terminal.env_file}\n"
    )
    done = subprocess.run(["bash", "-c", script], cwd=terminal.folder, env=terminal.env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"README line {block.line} exited {done.returncode}:\n{output}"
    return output


def _python(block: Block, terminal: Terminal) -> str:
    folder = terminal.folder / f"python_{block.line}"
    folder.mkdir(exist_ok=True)
    is_test = re.search(r"^def test_", block.text, re.MULTILINE) is not None
    target = folder / (f"test_readme_{block.line}.py" if is_test else f"readme_{block.line}.py")
    target.write_text(block.text, encoding="utf-8")
    python = str(ROOT / ".venv" / "bin" / "python")
    command = (
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)] if is_test else [python, str(target)]
    )
    done = subprocess.run(command, cwd=folder, env=terminal.env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"README line {block.line} exited {done.returncode}:\n{output}"
    return output


if __name__ == "__main__":  # list the blocks as the harness sees them
    for found in BLOCKS:
        print(found.id, "skip: " + found.skip if found.skip else "", found.expect, file=sys.stdout)
