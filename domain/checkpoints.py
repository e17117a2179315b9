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
from datetime import datetime

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


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
