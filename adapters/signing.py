"""The ledger's signing key: an Ed25519 key in a file outside the database
(``CHANJIAO_SIGNING_KEY``, default ``chanjiao-signing.key`` in the working directory),
created on first use (ADR 0014)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.settings import Settings
from domain.checkpoints import Checkpoint, key_id, statement
from domain.errors import ConfigurationError


def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path``, else the settings' (read now: the CLI and the server hand theirs down)."""
    return Path(path) if path else Settings.from_environ().signing_key


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
