"""The exception root of the contracts package."""


class ContractError(Exception):
    """Root of every error raised by :mod:`contracts`."""


class SpecLoadError(ContractError):
    """A contract could not be read, resolved or validated; the message names the file and the place."""

    def __init__(self, path: str, place: str, reason: str) -> None:
        self.path = path
        self.place = place
        self.reason = reason
        super().__init__(f"{path}: {place}: {reason}")


class MalformedMessage(ContractError):
    """A message body that is not a usable JSON document (encoding, syntax, size or nesting)."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)
