"""Identifier formats and check digits of the German energy market (BDEW "Identifikatoren", ch. 8).

Pure functions: no I/O. Formats are always checked; check digits only in strict mode, because the published
examples (e.g. MaLo 50754496000) fail them.
"""

from __future__ import annotations

import re

_MALO = re.compile(r"[1-9][0-9]{10}")
_NELO = re.compile(r"E[A-Z0-9]{9}[0-9]")
_MELO = re.compile(r"[A-Z]{2}[A-Z0-9]{31}")
_RESOURCE = re.compile(r"[CD][A-Z0-9]{9}[0-9]")
_MP_ID = re.compile(r"[0-9]{13}")


def weighted_check_digit(values: list[int]) -> int:
    """§8.1/§8.2: odd positions count once, even positions twice (no digit sums); (10 - total mod 10) mod 10."""
    odd = sum(values[0::2])
    even = sum(values[1::2])
    return (10 - (odd + 2 * even) % 10) % 10


def _ascii_values(text: str) -> list[int]:
    """Digits count as their value, letters as their ASCII code (A=65 … Z=90)."""
    return [int(ch) if ch.isdigit() else ord(ch) for ch in text]


def expected_check_digit(value: str) -> int:
    """The check digit the §8.1/§8.2 procedure gives for the first 10 characters of a location ID."""
    return weighted_check_digit(_ascii_values(value[:10]))


def is_malo_id_format(value: str) -> bool:
    return bool(_MALO.fullmatch(value))


def has_valid_malo_check_digit(value: str) -> bool:
    """MaLo-ID (and Tranche): 11 digits, the last one the check digit over digits 1–10."""
    return is_malo_id_format(value) and weighted_check_digit(_ascii_values(value[:10])) == int(value[10])


def is_nelo_id_format(value: str) -> bool:
    return bool(_NELO.fullmatch(value))


def has_valid_resource_check_digit(value: str) -> bool:
    """NeLo ("E…"), SR ("C…") and TR ("D…") IDs: the ASCII procedure of §8.2 over characters 1–10."""
    if not (_NELO.fullmatch(value) or _RESOURCE.fullmatch(value)):
        return False
    return weighted_check_digit(_ascii_values(value[:10])) == int(value[10])


def is_melo_id_format(value: str) -> bool:
    """Zählpunktbezeichnung: 33 characters, a country code and 31 alphanumerics. It has no check digit."""
    return bool(_MELO.fullmatch(value))


def is_mp_id_format(value: str) -> bool:
    return bool(_MP_ID.fullmatch(value))


def has_valid_gln_check_digit(value: str) -> bool:
    """GS1 GLN: weights 3 and 1 alternating from the right over the first 12 digits."""
    if not is_mp_id_format(value):
        return False
    digits = [int(ch) for ch in value[:12]]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10 == int(value[12])


def has_valid_mp_id_check_digit(value: str, rollencodetyp: str) -> bool:
    """MP-ID check digit by code list: GS1/GLN use the GS1 procedure, BDEW/DVGW the §8.1 procedure on digits 1–12."""
    if not is_mp_id_format(value):
        return False
    if rollencodetyp in ("GS1", "GLN"):
        return has_valid_gln_check_digit(value)
    return weighted_check_digit([int(ch) for ch in value[:12]]) == int(value[12])


def expected_format(lokationstyp: str) -> str | None:
    """A human description of the ID format a lokationsTyp requires, or None when there is no rule."""
    return {
        "MALO": "11 digits, the first 1-9 (MaLo-ID)",
        "TRANCHE": "11 digits, the first 1-9 (Tranche-ID)",
        "NELO": '"E" followed by 9 characters A-Z/0-9 and a check digit (NeLo-ID)',
        "MELO": "33 characters: a country code and 31 letters/digits (Zählpunktbezeichnung)",
        "STEUERBARE_RESSOURCE": '"C" followed by 9 characters A-Z/0-9 and a check digit (SR-ID)',
        "TECHNISCHE_RESSOURCE": '"D" followed by 9 characters A-Z/0-9 and a check digit (TR-ID)',
    }.get(lokationstyp)


def fits_lokationstyp(value: str, lokationstyp: str) -> bool:
    """Whether the ID has the format its lokationsTyp requires."""
    if lokationstyp in ("MALO", "TRANCHE"):
        return is_malo_id_format(value)
    if lokationstyp == "NELO":
        return is_nelo_id_format(value)
    if lokationstyp == "MELO":
        return is_melo_id_format(value)
    if lokationstyp == "STEUERBARE_RESSOURCE":
        return bool(_RESOURCE.fullmatch(value)) and value[0] == "C"
    if lokationstyp == "TECHNISCHE_RESSOURCE":
        return bool(_RESOURCE.fullmatch(value)) and value[0] == "D"
    return True


def has_valid_check_digit(value: str, lokationstyp: str) -> bool:
    """Check digit of a location ID by its type; MeLo IDs have none and always pass."""
    if lokationstyp in ("MALO", "TRANCHE"):
        return has_valid_malo_check_digit(value)
    if lokationstyp in ("NELO", "STEUERBARE_RESSOURCE", "TECHNISCHE_RESSOURCE"):
        return has_valid_resource_check_digit(value)
    return True
