"""When to try a delivery again, and where deliveries may go. Pure functions."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: base, base×factor, … capped at `cap` seconds; after `max_attempts` the delivery is dead."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 60.0
    max_attempts: int = 12

    def delay_after(self, attempts: int) -> float | None:
        """Seconds to wait after `attempts` failed attempts, or None when the delivery is to be given up."""
        if attempts >= self.max_attempts:
            return None
        return float(min(self.cap, self.base * self.factor ** (attempts - 1)))


def host_allowed(url: str, patterns: Sequence[str]) -> bool:
    """Whether the URL's host matches one of the allow-list patterns (`*` wildcards); an empty list allows all."""
    if not patterns:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns)
