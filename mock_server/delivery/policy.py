"""When to try a delivery again. Pure functions. (Where deliveries may go: targets.py.)"""

from __future__ import annotations

from dataclasses import dataclass


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
