"""A request rate shared by everything one run sends (`--rate-limit 10/s`): the format Schemathesis takes, the same
limiter library (pyrate-limiter), so `fuzz` and `replay` pace alike."""

from __future__ import annotations

from typing import Any

import httpx
from pyrate_limiter import Duration, Limiter, Rate

from pruefstand.contracts.errors import ContractError

_UNITS = {"s": Duration.SECOND, "m": Duration.MINUTE, "h": Duration.HOUR, "d": Duration.DAY}


def check_rate(value: str) -> tuple[int, str]:
    count, _, unit = value.partition("/")
    if not count.isdigit() or int(count) < 1 or unit not in _UNITS:
        raise ContractError(f"--rate-limit: {value!r} is not a rate such as 10/s or 600/m (units s, m, h, d)")
    return int(count), unit


class RateLimit:
    """Blocks each request until the rate allows it; one instance per run, shared by every client."""

    def __init__(self, value: str) -> None:
        count, unit = check_rate(value)
        self.value = value
        self._limiter = Limiter(Rate(count, _UNITS[unit]))

    def wait(self, request: Any = None) -> None:  # noqa: ARG002 (an httpx request hook)
        self._limiter.try_acquire("pruefstand", blocking=True)


def paced(client: httpx.Client, limit: RateLimit | None) -> httpx.Client:
    if limit is not None:
        client.event_hooks["request"].append(limit.wait)
    return client
