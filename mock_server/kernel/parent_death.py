"""A child process that must not outlive the process that started it (serving workers, render processes): Linux's
PR_SET_PDEATHSIG sends it SIGTERM when its parent goes, however the parent goes (even kill -9); elsewhere nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a multiprocessing child: get SIGTERM when the parent goes; exit now if it already went."""
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent.pid:  # the parent died before the line above
        os._exit(1)
