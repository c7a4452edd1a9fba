"""The exception root of the mock and the domain errors that map to HTTP statuses in one place (http_errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the CLI's light commands must not load the validators
    from pruefstand.contracts import Violation


class MockError(Exception):
    """Root of every error raised by :mod:`mock_server`."""


class NotFound(MockError):
    """An unknown resource."""


class Conflict(MockError):
    """The request contradicts stored state (a reused key, an issued record)."""


class Unprocessable(MockError):
    """Understood, but the flow refuses it (an order that names no buyer); 422."""


class Unauthenticated(MockError):
    """Missing, unknown or expired credentials."""


class BadRequest(MockError):
    """A request the contract or the flow's rules refuse; carries every violation found."""

    def __init__(self, violations: Sequence[Violation], *, prefix: str = "Validation Failed") -> None:
        self.violations = list(violations)
        self.prefix = prefix
        detail = "; ".join(str(v) for v in self.violations)
        super().__init__(f"{prefix}: {detail}" if detail else prefix)


class PayloadTooLarge(MockError):
    """A body larger than the configured limit."""


class UnsupportedMediaType(MockError):
    """A body whose media type is missing or not one the operation takes; 415."""


class HeadersTooLarge(MockError):
    """Request headers over the limit; 431."""


class SettingsError(MockError):
    """A setting has a value of the wrong kind; the message names the setting and where it came from."""
