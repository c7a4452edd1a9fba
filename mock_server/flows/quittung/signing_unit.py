"""The mock's TSE: one signing unit per sandbox, each with its own P-256 key, serial number and counters.

The installation key is generated on first use and kept in the store with the rest of the state, so it survives
restarts and sandbox resets and is never regenerated. Each sandbox's key is derived from it (HKDF-SHA256 over the
sandbox name), so a sandbox keeps its serial across restarts and resets and no two sandboxes share one: receipts
of two sandboxes never carry the same counter under the same serial. A serial number is the SHA-256 of the public
key as an uncompressed point (BSI TR-03151 style, domain/quittung.md §7.5)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pruefstand.mock_server.flows.quittung.records import SigningKeyRecord
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.store import FlowStore, RecordExists

KEY_SANDBOX, KEY_KIND, KEY_NAME = "_tse", "tse.key", "p256"  # "_" is no valid sandbox name: never reset
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class Unit:
    """One key and what a receipt shows of it."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self.key = key
        self.public_point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.serial = hashlib.sha256(self.public_point).digest()

    @property
    def serial_hex(self) -> str:
        return self.serial.hex()

    @property
    def public_key_b64(self) -> str:
        """The raw uncompressed point in base64 (88 characters, starts with B), as TSE QR codes carry it."""
        return base64.b64encode(self.public_point).decode("ascii")

    @property
    def public_key_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, message: bytes) -> str:
        """ECDSA P-256 with SHA-256 over `message` (deterministic nonce, RFC 6979), as plain r||s (64 bytes) in
        base64 (88 characters)."""
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")


def _load_or_create(store: FlowStore, ids: IdSource) -> ec.EllipticCurvePrivateKey:
    stored = store.view(KEY_SANDBOX).get(KEY_KIND, KEY_NAME)
    if stored is None:
        key = (
            ec.derive_private_key(1 + int.from_bytes(ids.random_bytes(32), "big") % (_P256_ORDER - 1), ec.SECP256R1())
            if ids.seeded  # a reproducible run: the key follows from the seed, like every identifier
            else ec.generate_private_key(ec.SECP256R1())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        try:
            with store.unit_of_work(KEY_SANDBOX) as uow:
                record: SigningKeyRecord = {"pem": pem}
                uow.insert(KEY_KIND, KEY_NAME, record)
        except RecordExists:  # another worker process made it first: use that one
            pass
        stored = store.view(KEY_SANDBOX).get(KEY_KIND, KEY_NAME)
    assert stored is not None
    loaded = serialization.load_pem_private_key(stored["pem"].encode("ascii"), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise TypeError("the stored signing key is not an EC key")
    return loaded


class SigningUnit:
    """The installation's unit, loaded (or made) by `load()` when the app starts (the flow's start-up work; never in a
    constructor, never inside a request's transaction): `for_sandbox` gives each sandbox its own, derived from it."""

    def __init__(self, store: FlowStore, ids: IdSource | None = None) -> None:
        self._store = store
        self._ids = ids or IdSource()
        self._installation: Unit | None = None
        self._units: dict[str, Unit] = {}

    def load(self) -> None:
        """Read the installation key, or make and store it on the very first start."""
        if self._installation is None:
            self._installation = Unit(_load_or_create(self._store, self._ids))

    @property
    def installation(self) -> Unit:
        if self._installation is None:
            raise RuntimeError("the signing unit is not loaded: the flow's start-up calls load()")
        return self._installation

    @property
    def public_key_b64(self) -> str:
        """The installation key (it signed the receipts of state files from before each sandbox had its own)."""
        return self.installation.public_key_b64

    def for_sandbox(self, sandbox: str) -> Unit:
        unit = self._units.get(sandbox)
        if unit is None:
            secret = self.installation.key.private_numbers().private_value.to_bytes(32, "big")
            material = HKDF(
                algorithm=hashes.SHA256(), length=40, salt=b"pruefstand TSE per sandbox", info=sandbox.encode("utf-8")
            ).derive(secret)
            scalar = 1 + int.from_bytes(material, "big") % (_P256_ORDER - 1)  # 320 bits: no bias worth naming
            unit = self._units[sandbox] = Unit(ec.derive_private_key(scalar, ec.SECP256R1()))
        return unit
