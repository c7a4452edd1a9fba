"""Account codes and receipt numbers: Ethereum-style addresses (`0x` + 40 hex digits, EIP-55 checksum case) as the
real service issues them, from 160 random bits (the operating system's cryptographic source unless the mock runs
seeded)."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from pruefstand.mock_server.kernel.id_source import IdSource


def new_address(ids: IdSource) -> str:
    return str(to_checksum_address("0x" + ids.random_bytes(20).hex()))
