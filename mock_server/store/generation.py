"""A number every process on one machine shares, moved on by each commit that changes a record of a cached kind.

Records such as a sandbox's clock, the issued bearer tokens and a sandbox's backend are read by nearly every request
and written rarely. A process keeps what it read of them with the generation it saw before reading; the next read
compares the generation and answers from memory while nobody has changed such a record since. The writer moves the
generation on after its commit and before it lets the next writer in (it holds the writers' lock), so a reader
either sees the old generation (and re-reads later) or the new data.

`FileGeneration` lives in a file of 8 bytes beside the SQLite database, mapped into each process's memory (reading
it is a memory read, not a system call); `LocalGeneration` serves `:memory:` (one process). A store whose processes do
not share a machine (PostgreSQL replicas) has none, and reads through.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable
from typing import Any, Protocol

_FORMAT = struct.Struct("<Q")


class Generation(Protocol):
    def value(self) -> int: ...

    def bump(self) -> None:
        """Move on; the caller holds the writers' lock."""

    def close(self) -> None: ...


class LocalGeneration:
    def __init__(self) -> None:
        self._value = 0

    def value(self) -> int:
        return self._value

    def bump(self) -> None:
        self._value += 1

    def close(self) -> None:
        pass


class FileGeneration:
    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < _FORMAT.size:
                os.ftruncate(descriptor, _FORMAT.size)
            self._map: mmap.mmap | None = mmap.mmap(descriptor, _FORMAT.size)
        finally:
            os.close(descriptor)

    def value(self) -> int:
        if self._map is None:
            return -1
        return int(_FORMAT.unpack_from(self._map)[0])

    def bump(self) -> None:
        if self._map is not None:
            _FORMAT.pack_into(self._map, 0, (self.value() + 1) % 2**64)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class RecordCache:
    """What this process read of the cached kinds, each with the generation seen before the read. Off (reads go
    through) without a shared generation, and while a transaction of this process has written a cached kind."""

    def __init__(self, generation: Generation | None, *, size: int = 4096) -> None:
        self.generation = generation
        self.kinds: frozenset[str] = frozenset()
        self._size = size
        self._entries: dict[tuple[str, ...], tuple[int, Any]] = {}
        self._writing = False
        self._bump_due = False

    def covers(self, kind: str) -> bool:
        return self.generation is not None and kind in self.kinds and not self._writing

    def read(self, key: tuple[str, ...], fetch: Callable[[], Any], *, keep_none: bool = True) -> Any:
        generation = self.generation
        assert generation is not None  # covers() said so
        seen = generation.value()
        hit = self._entries.get(key)
        if hit is not None and hit[0] == seen:
            return hit[1]
        value = fetch()
        if value is not None or keep_none:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[key] = (seen, value)
        return value

    def wrote(self, kind: str) -> None:
        """A transaction wrote a record of `kind`: if cached, bypass the cache until it ends; move on at commit."""
        if self.generation is not None and kind in self.kinds:
            self._writing = True
            self._bump_due = True

    def changed_everything(self) -> None:
        """A write outside the records' unit of work (a sandbox reset): move on at commit."""
        if self.generation is not None:
            self._bump_due = True

    def committed(self) -> None:
        """Called after COMMIT, still holding the writers' lock."""
        if self._bump_due and self.generation is not None:
            self.generation.bump()
        self.ended()

    def ended(self) -> None:
        self._writing = False
        self._bump_due = False
