"""Where the mock's identifiers come from (businessKeys, order ids, account codes, receipt numbers).

By default the operating system's cryptographic source: identifiers are unguessable. With a seed (setting `id_seed`)
a seeded generator, so an in-process run repeats itself identifier for identifier (`pruefstand replay` does this);
never seed a mock that others share, since its identifiers become predictable.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
import uuid


class IdSource:
    def __init__(self, seed: str = "") -> None:
        self._rng = random.Random(seed) if seed else None
        self._lock = threading.Lock()
        self._last_stamp = 0  # milliseconds << 12 | fraction: the last record key's time

    @property
    def seeded(self) -> bool:
        return self._rng is not None

    def random_bytes(self, count: int) -> bytes:
        if self._rng is None:
            return secrets.token_bytes(count)
        with self._lock:
            return self._rng.getrandbits(8 * count).to_bytes(count, "big")

    def uuid(self) -> str:
        """A version 4 UUID."""
        return str(uuid.UUID(bytes=self.random_bytes(16), version=4))

    def record_key(self) -> str:
        """A UUID that keys a stored record the mock creates (a businessKey, an order id). Unseeded: version 7 (RFC
        9562), the creation's Unix milliseconds, then the fraction of the millisecond in 12 bits (the RFC's method 3),
        then 62 random bits; within a process each key is greater than the one before (a clock that stands or steps
        back is overtaken by one). Keys made one after the other append to the index pages their neighbours filled:
        a random key costs a random page of every index, an unordered one within a millisecond a rebalancing of
        full pages. Seeded: version 4 from the seeded generator, so a replay repeats its identifiers whatever the
        time."""
        if self._rng is not None:
            return self.uuid()
        now = time.time_ns()
        stamp = (now // 1_000_000) << 12 | (now % 1_000_000) * 4096 // 1_000_000
        with self._lock:
            stamp = max(stamp, self._last_stamp + 1)
            self._last_stamp = stamp
        random_bits = int.from_bytes(os.urandom(8), "big") >> 2
        value = (stamp >> 12) << 80 | 0x7 << 76 | (stamp & 0xFFF) << 64 | 0b10 << 62 | random_bits
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
