"""The TMF622 flow's settings section: `[tmf622]` in TOML, PRUEFSTAND_TMF622_* in the environment."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pruefstand.mock_server.kernel.errors import SettingsError

_CHOICES = {
    "buyer_progress": ("auto", "manual"),
    "callback": ("listener", "callback"),
    "default_profile": ("auto", "tmf622", "fit"),
}


@dataclass(frozen=True, slots=True)
class Tmf622Settings:
    # Seconds between the seller's steps on the sandbox clock; buyer orders progress "auto" or "manual"; events go to
    # callback + /listener/<eventName> ("listener") or to the callback as is ("callback").
    step_delay: float = 5.0
    timezone: str = "Europe/Berlin"  # order and event times carry this zone's offset
    buyer_progress: str = "auto"
    callback: str = "listener"
    profile: str = ""  # a FIT profile file replacing specs/tmf622/fit-profile.yaml
    # Profile of a sandbox that chose none: auto (fit with FIT data, else plain tmf622 v4), tmf622, fit.
    default_profile: str = "auto"
    seed: str = ""  # a YAML file with inventory and agreements per sandbox, loaded at start

    def check(self, _allow_hosts: tuple[str, ...]) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise SettingsError(f"tmf622_{name} must be one of {allowed}, got {getattr(self, name)!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"tmf622_timezone: unknown time zone {self.timezone!r}") from exc
