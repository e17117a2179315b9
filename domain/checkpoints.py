"""Signed checkpoints over the whole log (ADR 0014).

A checkpoint says: "the first ``size`` events of the log, up to ``position``, have
the Merkle root ``root``" (RFC 9162 tree, see ``domain.merkle``; each leaf is an
event's chain hash), signed with the ledger's Ed25519 key. The key lives in a file
outside the database (``CHANJIAO_SIGNING_KEY``, default ``chanjiao-signing.key`` in
the working directory), created on first use: whoever can rewrite the database
cannot forge a checkpoint without it. What is signed is the UTF-8 text::

    chanjiao-checkpoint-v1
    <size>
    <position>
    <root, 64 hex digits>
    <recorded at, RFC 3339 UTC as written in the JSON, e.g. 2026-11-23T08:00:00Z>

each line ending in a newline, so a checker needs no JSON canonicalisation.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import ConfigurationError

DEFAULT_KEY_FILE = "chanjiao-signing.key"


class Checkpoint(msgspec.Struct, frozen=True):
    size: int
    position: int
    root: str
    recorded_at: datetime
    key_id: str
    public_key: str
    signature: str

    def statement(self) -> bytes:
        return statement(self.size, self.position, self.root, self.recorded_at)

    def signature_ok(self) -> bool:
        return signed_by(self.public_key, self.key_id, self.signature, self.statement())


def signed_by(public_key: str, expected_id: str, signature: str, message: bytes) -> bool:
    """Is ``signature`` (hex) the Ed25519 signature of ``message`` by ``public_key``
    (32 bytes, hex), whose key id is ``expected_id``?"""
    try:
        public = bytes.fromhex(public_key)
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return key_id(public) == expected_id


def statement(size: int, position: int, root: str, recorded_at: datetime) -> bytes:
    return (
        f"chanjiao-checkpoint-v1\n{size}\n{position}\n{root}\n{time_text(recorded_at)}\n"
    ).encode()


def time_text(moment: datetime) -> str:
    """A time as it is written in the JSON (RFC 3339, "Z" for UTC), which is also how
    it is signed: a checker signs-checks the very string it reads."""
    return msgspec.json.encode(moment).decode()[1:-1]


def key_id(public: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path or os.environ.get("CHANJIAO_SIGNING_KEY") or DEFAULT_KEY_FILE)


class SigningKey:
    """The ledger's Ed25519 key, read from (or, the first time, written to) its file."""

    def __init__(self, private: Ed25519PrivateKey, path: Path, created: bool) -> None:
        self._private = private
        self.path = path
        self.created = created
        self.public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.id = key_id(self.public)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, create: bool = True) -> SigningKey:
        """The key in ``path``; with ``create``, a new one is written there (readable
        by its owner only) if the file does not exist yet."""
        where = key_path(path)
        try:
            data = where.read_bytes()
        except FileNotFoundError:
            if not create:
                raise ConfigurationError(f"no signing key at {where}") from None
            return cls._create(where)
        except OSError as e:
            raise ConfigurationError(f"cannot read the signing key {where}: {e.strerror}") from e
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as e:
            raise ConfigurationError(f"{where} is not an unencrypted PEM private key") from e
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigurationError(f"{where} holds a key that is not Ed25519")
        return cls(private, where, created=False)

    @classmethod
    def _create(cls, where: Path) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written to a private temporary file, then linked into place: another
        # process starting at the same moment either wins the link (and we read its
        # key) or finds the file complete, never half-written.
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            temporary = where.with_name(f".{where.name}.{os.getpid()}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            try:
                os.link(temporary, where)
            finally:
                temporary.unlink()
        except FileExistsError:
            return cls.load(where, create=False)
        except OSError as e:
            raise ConfigurationError(f"cannot create the signing key {where}: {e.strerror}") from e
        return cls(private, where, created=True)

    def sign(self, size: int, position: int, root: str, recorded_at: datetime) -> Checkpoint:
        signature = self._private.sign(statement(size, position, root, recorded_at))
        return Checkpoint(
            size, position, root, recorded_at, self.id, self.public.hex(), signature.hex()
        )

    def sign_bytes(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    def created_message(self) -> str:
        return (
            f"created a new Ed25519 signing key in {self.path} (key id {self.id}). Checkpoints "
            "are signed with it: keep it safe, away from the database and its backups, and "
            "give auditors its key id"
        )
