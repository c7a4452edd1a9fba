"""What a receipt costs (domain/quittung.md §5, §8.4): energy at the energy price, the base price allocated pro rata
by the yearly consumption, VAT 19 % contained in the gross amount or the small-business exemption (§19 UStG).
Exact decimal arithmetic, cents rounded half up; net + VAT = gross by construction. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
VAT_RATE = Decimal("0.19")
EXEMPTION_NOTE = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."


@dataclass(frozen=True, slots=True)
class Tariff:
    """`ap`: energy price in ct/kWh and `gp`: base price in EUR/month, both gross (incl. taxes), as Corrently's
    tariff schema states them."""

    energy_price_ct: Decimal
    base_price_eur_month: Decimal


@dataclass(frozen=True, slots=True)
class Amounts:
    energy_gross: Decimal
    base_gross: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal
    note: str = ""

    def as_json(self) -> dict[str, str]:
        body = {
            "currency": "EUR",
            "energyGross": str(self.energy_gross),
            "baseGross": str(self.base_gross),
            "net": str(self.net),
            "vat": str(self.vat),
            "gross": str(self.gross),
            "vatRate": str(self.vat_rate),
        }
        return {**body, "note": self.note} if self.note else body


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute(energy_kwh: Decimal, yearly_kwh: Decimal, tariff: Tariff, *, small_business: bool) -> Amounts:
    """energy = kWh × ap / 100; base = gp × 12 × kWh / yearly kWh; gross = both, in cents; VAT is the part of the
    gross amount at 19 % (gross − round(gross / 1.19)), or 0 with the exemption note."""
    energy = cents(energy_kwh * tariff.energy_price_ct / 100)
    base = cents(tariff.base_price_eur_month * 12 * energy_kwh / yearly_kwh)
    gross = energy + base
    if small_business:
        return Amounts(energy, base, gross, Decimal("0.00"), gross, Decimal("0.00"), EXEMPTION_NOTE)
    net = cents(gross / (1 + VAT_RATE))
    return Amounts(energy, base, net, gross - net, gross, VAT_RATE)
