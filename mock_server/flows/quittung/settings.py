"""The Strom-Quittung flow's settings section: `[quittung]` in TOML, PRUEFSTAND_QUITTUNG_* in the environment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pruefstand.mock_server.kernel.errors import SettingsError


@dataclass(frozen=True, slots=True)
class QuittungSection:
    # Tariff (gross: energy price ct/kWh, base price EUR/month), the TSE client id, strict mode (422 instead of 200
    # for missing mandatory fields).
    energy_price_ct: str = "35.00"
    base_price_eur: str = "12.00"
    client_id: str = "pruefstand-quittung"
    strict: bool = False

    def check(self, _allow_hosts: tuple[str, ...]) -> None:
        for name in ("energy_price_ct", "base_price_eur"):
            value = getattr(self, name)
            try:
                if Decimal(str(value)) < 0:
                    raise InvalidOperation
            except InvalidOperation as exc:
                raise SettingsError(f"quittung_{name} must be a decimal number >= 0, got {value!r}") from exc
