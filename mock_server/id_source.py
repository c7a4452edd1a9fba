"""Where the mock's identifiers come from (businessKeys, order ids, account codes, receipt numbers).

By default the operating system's cryptographic source: identifiers are unguessable. With a seed (setting `id_seed`)
a seeded generator, so an in-process run repeats itself identifier for identifier (`pruefstand replay` does this);
never seed a mock that others share, since its identifiers become predictable.
"""

from __future__ import annotations

import random
import secrets
import threading
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
