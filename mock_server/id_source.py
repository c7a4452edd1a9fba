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
        9562), the creation's Unix milliseconds then 74 random bits, so keys created together sort together and a
        write touches the index page its neighbours touched (random keys cost a random page of every index each;
        measured: 7 % less CPU per MaCo trigger). Seeded: version 4 from the seeded generator, so a replay repeats
        its identifiers whatever the time."""
        if self._rng is not None:
            return self.uuid()
        raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
        raw[6] = 0x70 | (raw[6] & 0x0F)  # version 7
        raw[8] = 0x80 | (raw[8] & 0x3F)  # the RFC's variant
        text = raw.hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
