"""SQLite's WAL checkpoints beside the writers instead of inside them.

By default SQLite checkpoints inside whichever commit makes the write-ahead log pass 1,000 pages: that request copies
the log into the database and waits for two fsyncs (milliseconds on a real disk), and every request queued behind it
waits too. Here the store's own connection never checkpoints (`wal_autocheckpoint=0`); a thread with a connection of
its own copies the log into the database every `every` seconds (PASSIVE: writers and readers go on meanwhile; sqlite3
releases the GIL while it works). Under sustained writes a passive checkpoint never catches the last frames, and the
log restarts only when it did, so once the log holds `restart_at_pages` the thread takes the writers' file lock (the
one `SQLiteStore` queues its writers on, in every process) and finishes with RESTART: the next commit writes the log
from its start again. The log stays bounded (about `restart_at_pages` pages and what arrives during one pass), and the
durability is SQLite's own (WAL, synchronous=NORMAL: a commit survives the process being killed).

The thread starts with the first commit and ends with the store's `close()` or when the store is garbage-collected.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import weakref
from typing import Any

logger = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(
        self, owner: Any, path: str, lock_path: str, *, every: float = 0.05, restart_at_pages: int = 4000
    ) -> None:
        self._owner = weakref.ref(owner)
        self._path = path
        self._lock_path = lock_path
        self._every = every
        self._restart_at = restart_at_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.passes = 0
        self.restarts = 0

    def committed(self) -> None:
        """Called after each commit: starts the thread the first time."""
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name="pruefstand-wal-checkpoint", daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=5.0)
        lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            while not self._stop.wait(self._every) and self._owner() is not None:
                try:
                    self.checkpoint(conn, lock_fd)
                except sqlite3.Error as exc:  # busy or locked: the next pass tries again
                    logger.debug("WAL checkpoint skipped: %s", exc)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            os.close(lock_fd)

    def checkpoint(self, conn: sqlite3.Connection, lock_fd: int) -> None:
        """One pass: copy what the log holds; restart it (holding the writers' lock) once it is long."""
        busy, in_log, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        if busy or in_log < self._restart_at:
            return
        # Before the writers wait: make what was copied durable, copy what arrived meanwhile, again. The restart
        # under the lock then has little to copy and little to flush (under load an fsync here waits for the disk's
        # writeback: measured 5-15 ms held without this, 2 ms with it).
        self._sync_files()
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._sync_files()
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:  # the writers wait; what they wrote since is copied, then the log restarts
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += 1
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)

    def _sync_files(self) -> None:
        """fsync the database file and its log through descriptors SQLite already holds (Linux: /proc/self/fd).
        Not through one of our own: closing it would drop every POSIX lock this process holds on the file, and
        SQLite's locking rests on them. An fsync is harmless on any file, should a descriptor change meanwhile."""
        targets = {os.path.realpath(self._path), os.path.realpath(self._path + "-wal")}
        try:
            entries = list(os.scandir("/proc/self/fd"))
        except OSError:  # not Linux: the restart under the lock does the flushing
            return
        for entry in entries:
            try:
                target = os.readlink(entry.path)
                if target in targets:
                    targets.discard(target)
                    os.fsync(int(entry.name))
            except OSError:  # closed meanwhile
                continue
            if not targets:
                return
