"""`pruefstand serve --workers N` (N > 1): N worker processes, each listening on the port with a socket of its own.

uvicorn's own supervisor hands one listening socket to every worker: whichever worker wakes first accepts a burst of
new connections and keeps them, so a client with a pool of keep-alive connections (wrk, a partner's test suite, a
load balancer) is served by one worker while the others idle (seen: one worker at 100 % CPU, the other at 13 %).
Here each worker binds its own socket with SO_REUSEPORT and the kernel spreads the connections over them. The
supervisor starts a new worker when one dies, and stops them all on SIGINT or SIGTERM (each worker finishes what it
is answering: uvicorn's graceful shutdown). Elsewhere than on Linux `serve` uses uvicorn's supervisor.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from pruefstand.mock_server.serving.launch import ServerOptions, uvicorn_config

logger = logging.getLogger("uvicorn.error")


def available() -> bool:
    """Linux spreads connections over sockets sharing a port; BSD and macOS accept SO_REUSEPORT but do not balance."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that shares the port with the other workers' (the kernel balances between them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: ServerOptions) -> None:
    import uvicorn

    uvicorn.Server(uvicorn_config(host, port, options)).run(sockets=[listening_socket(host, port)])


class WorkersFailed(RuntimeError):
    """Workers die as they start (the port taken meanwhile, a state file that cannot be opened): no use restarting."""


def serve_workers(
    host: str,
    port: int,
    workers: int,
    options: ServerOptions,
    *,
    target: Callable[..., None] = _worker,
    quick_deaths: int = 3,
) -> None:
    """Run `workers` processes until SIGINT or SIGTERM; a worker that dies is replaced, unless `quick_deaths` in a
    row died within 10 s of their start (WorkersFailed: the others are stopped)."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    args: tuple[Any, ...] = (host, port, options)
    started: dict[int, float] = {}
    failing = 0

    def start() -> BaseProcess:
        process = context.Process(target=target, args=args, name="pruefstand-worker")
        process.start()
        started[id(process)] = time.monotonic()
        return process

    def stopping(signum: int, _frame: object) -> None:  # noqa: ARG001 (the signature is the library's)
        stop.set()

    previous = {s: signal.signal(s, stopping) for s in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for number, process in enumerate(running):
                if process.is_alive() or stop.is_set():
                    continue
                quick = time.monotonic() - started.pop(id(process), 0.0) < 10
                failing = failing + 1 if quick else 0
                if failing >= quick_deaths:
                    raise WorkersFailed(
                        f"{failing} workers in a row exited within 10 s of their start (last exit code "
                        f"{process.exitcode}); see their messages above"
                    )
                logger.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                running[number] = start()
    finally:
        for process in running:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the answers under way
        for process in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
