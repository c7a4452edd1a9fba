"""Account codes and receipt numbers: Ethereum-style addresses (`0x` + 40 hex digits, EIP-55 checksum case) as the
real service issues them, from 160 random bits of the operating system's cryptographic source."""

from __future__ import annotations

import secrets

from eth_utils.address import is_checksum_address, to_checksum_address


def new_address() -> str:
    return str(to_checksum_address("0x" + secrets.token_hex(20)))


def is_address(value: str) -> bool:
    return bool(is_checksum_address(value))
