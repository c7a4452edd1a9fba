"""A throw-away PostgreSQL server for tests, benchmarks and trying replicas: `initdb` in a temporary folder, `pg_ctl`
on a free loopback port, torn down (and the folder removed) afterwards. Needs Debian's `postgresql` package
(`bash scripts/setup-postgres` installs it); as root the server runs as the package's `postgres` user."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.serving.process_hygiene import free_port

INSTALL_HINT = "install Debian's postgresql package: bash scripts/setup-postgres (apt-get install -y postgresql)"


class PostgresMissing(MockError):
    """No PostgreSQL server binaries on this machine."""


def server_bindir() -> Path:
    """Where initdb and pg_ctl are: $PRUEFSTAND_PG_BINDIR, the PATH, or Debian's newest /usr/lib/postgresql/N/bin."""
    configured = os.environ.get("PRUEFSTAND_PG_BINDIR")
    if configured:
        return Path(configured)
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise PostgresMissing(f"no PostgreSQL server binaries (initdb, pg_ctl) found; {INSTALL_HINT}")
    return Path(found[-1]).parent


@contextmanager
def temporary_postgres(*, user: str = "pruefstand") -> Iterator[str]:
    """Start a PostgreSQL cluster of its own and yield its URL (database `postgres`, trust auth on 127.0.0.1)."""
    bindir = server_bindir()
    folder = Path(tempfile.mkdtemp(prefix="pruefstand-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the package's own user
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise PostgresMissing(f"PostgreSQL did not start: {exc.stderr or exc.stdout}") from exc
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    # A watcher in a session of its own holds a pipe from this process: when this process ends in any way (even
    # kill -9, or a Ctrl-C to the whole process group) the pipe closes, and the watcher stops the cluster and removes
    # its folder. Nothing outlives the run that started it.
    watcher = subprocess.Popen(
        [sys.executable, "-c", _WATCHER, json.dumps({"stop": stop, "folder": str(folder)})],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(stop, capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        assert watcher.stdin is not None
        watcher.stdin.close()
        watcher.wait(timeout=120)


_WATCHER = """
import json, shutil, subprocess, sys
task = json.loads(sys.argv[1])
sys.stdin.buffer.read()  # until the starting process closes the pipe or ends
subprocess.run(task["stop"], capture_output=True, timeout=60, check=False)
shutil.rmtree(task["folder"], ignore_errors=True)
"""


def create_database(url: str, name: str) -> str:
    """A new empty database on the server at `url`; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    return url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    """`python -m pruefstand.mock_server.serving.postgres_server`: a throw-away server until Ctrl-C; prints its URL."""
    import signal

    stopping = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)  # taken by sigwait below, so the server is always torn down
    with temporary_postgres() as url:
        print(url, flush=True)
        signal.sigwait(stopping)


if __name__ == "__main__":
    main()
