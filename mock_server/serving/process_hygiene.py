"""What the serving processes owe the machine: a busy port named before anything starts, a free port for throw-away
servers. (Workers that die with their supervisor: kernel/parent_death.py.)"""

from __future__ import annotations

import errno
import socket


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
