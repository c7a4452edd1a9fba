"""What the serving processes owe the machine: workers that die with their supervisor, whatever kills it, and a
busy port named before anything starts. Linux's PR_SET_PDEATHSIG does the first; elsewhere it is skipped."""

from __future__ import annotations

import errno
import socket

from pruefstand.mock_server.kernel.parent_death import die_with_parent


def die_with_supervisor() -> None:
    """In a worker process: get SIGTERM when the supervisor goes (even by kill -9); exit now if it already went."""
    die_with_parent()


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now (for tests, benchmarks and throw-away servers)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_refusal(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (None: it can), checked before the banner and the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"--port {port}: {host}:{port} is already in use (another server listens there); pick another"
            return f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}"
    return None
