"""The MaCo flow's settings section: `[maco]` in TOML, PRUEFSTAND_MACO_* in the environment."""

from __future__ import annotations

from dataclasses import dataclass

from pruefstand.mock_server.kernel.errors import SettingsError

IDEMPOTENCY_MODES = ("conflict", "payload")


@dataclass(frozen=True, slots=True)
class MacoSettings:
    client_id: str = "pruefstand"
    client_secret: str = "pruefstand-secret"
    username: str = "backend"
    password: str = "backend-password"
    token_lifetime: int = 900
    strict_check_digits: bool = False
    # "conflict": same (eventname, prozessId, sender) with another payload is refused with 409.
    # "payload": only an identical payload is replayed; another payload starts a new process.
    idempotency: str = "conflict"
    # The customer's backend the app calls back (updateProcessData); empty: no callbacks unless a sandbox sets one.
    backend_url: str = ""
    backend_token: str = ""

    def check(self, allow_hosts: tuple[str, ...]) -> None:
        """Refused at start, naming the setting: an unknown mode, a backend the allow-list refuses."""
        if self.idempotency not in IDEMPOTENCY_MODES:
            raise SettingsError(f"maco_idempotency must be one of {IDEMPOTENCY_MODES}, got {self.idempotency!r}")
        if self.backend_url:
            from pruefstand.mock_server.delivery.targets import TargetPolicy  # only when a backend is configured

            refusal = TargetPolicy.from_patterns(list(allow_hosts)).refusal(self.backend_url)
            if refusal:
                raise SettingsError(f"maco_backend_url: {refusal}")
