"""``chanjiao audit``: verification, signed checkpoints and proofs (ADR 0014)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from adapters.signing import SigningKey
from bootstrap import Ledger
from domain import bundle, merkle
from domain.checkpoints import Checkpoint
from domain.errors import ConfigurationError, InvalidInput


@contextmanager
def _progress(ledger: Ledger, what: str) -> Iterator[Callable[[int], None]]:
    """A bar over the log's events on stderr (shown only on a terminal)."""
    total = ledger.recorder.max_notification_id() or 0
    err = Console(stderr=True)
    with Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(what, total=total or 1)
        yield lambda done: bar.update(task, completed=done)


def verify(ledger: Ledger, a: argparse.Namespace) -> Any:
    with _progress(ledger, "verifying") as progress:
        result = ledger.verify(progress)
    a.exit_code = 0 if result.ok else 6
    return result


def checkpoint(ledger: Ledger, a: argparse.Namespace) -> Any:
    key = SigningKey.load(a.settings.signing_key)
    if key.created:
        print(f"chanjiao: {key.created_message()}", file=sys.stderr)
    with _progress(ledger, "verifying before signing") as progress:
        return ledger.checkpoint(key, progress)


def checkpoints(ledger: Ledger, a: argparse.Namespace) -> Any:
    return ledger.checkpoints()


def inclusion(ledger: Ledger, a: argparse.Namespace) -> Any:
    proof = ledger.prove_inclusion(a.position, a.size)
    a.exit_code = 0 if proof.verified else 6
    return proof


def consistency(ledger: Ledger, a: argparse.Namespace) -> Any:
    """From a checkpoint the auditor kept (a file) or one on record (a size): the
    file's own signature and root are what the proof is checked against."""
    kept = _kept_checkpoint(a.since) if not a.since.isdigit() else None
    proof = ledger.prove_consistency(kept.size if kept else int(a.since), a.to)
    if kept is not None:
        ok = kept.signature_ok() and merkle.verify_consistency(
            kept.size,
            proof.second.size,
            bytes.fromhex(kept.root),
            bytes.fromhex(proof.second.root),
            [bytes.fromhex(h) for h in proof.proof],
        )
        proof = msgspec.structs.replace(proof, first=kept, verified=ok)
    a.exit_code = 0 if proof.verified is not False else 6
    return proof


def export(ledger: Ledger, a: argparse.Namespace) -> Any:
    """Write the bundle beside its final name and rename it into place when whole:
    an interrupted export leaves no file that looks complete."""
    target = Path(a.file)
    if target.exists():
        raise InvalidInput(f"{target} already exists: choose another name or remove it first")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a directory")
    key = SigningKey.load(a.settings.signing_key)
    if key.created:
        print(f"chanjiao: {key.created_message()}", file=sys.stderr)
    writer = ledger.export(a.community, key)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as out:
            for line in writer.lines():
                out.write(line)
        partial.rename(target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {target}: {e.strerror}") from e
    finally:
        partial.unlink(missing_ok=True)
    print(
        f"chanjiao: wrote {target}: {writer.scope}, anchored in the checkpoint of "
        f"{writer.anchor.size} events (root {writer.anchor.root}, key {key.id})",
        file=sys.stderr,
    )
    return None


def verify_bundle(_: Ledger | None, a: argparse.Namespace) -> Any:
    try:
        with open(a.file, "rb") as f:
            result = bundle.verify(f, a.key_id)
    except OSError as e:
        raise InvalidInput(f"cannot read {a.file}: {e.strerror}") from e
    a.exit_code = 6 if not result.ok else 0 if result.key_pinned else 7
    if a.exit_code == 7:
        print(
            f"chanjiao: {a.file} is only shown consistent with the key it carries "
            f"({result.key_id}): anyone can sign a bundle with a key of their own. Give the "
            "key id the ledger's operator published (--key-id ID, or --public-key HEX) "
            "to show it is the ledger's",
            file=sys.stderr,
        )
    return result


def _kept_checkpoint(name: str) -> Checkpoint:
    path = Path(name)
    try:
        return msgspec.json.decode(path.read_bytes(), type=Checkpoint)
    except FileNotFoundError:
        raise InvalidInput(f"{name} is neither a checkpoint size nor a file") from None
    except msgspec.ValidationError as e:
        raise InvalidInput(
            f"{name} is not a checkpoint as `audit checkpoint --format json` prints it: {e}"
        ) from None
    except msgspec.DecodeError:
        raise InvalidInput(f"{name} is not JSON") from None


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    audit = group("audit", "tamper evidence: hash chains, signed checkpoints, proofs")
    leaf(
        audit,
        "verify",
        verify,
        "recompute every hash chain and checkpoint; exit code 6 if anything was altered, "
        "deleted, inserted or reordered",
    )
    leaf(
        audit,
        "checkpoint",
        checkpoint,
        "verify the log, then sign and keep the root of its Merkle tree "
        "(key: CHANJIAO_SIGNING_KEY, created on first use)",
    )
    leaf(audit, "checkpoints", checkpoints, "every signed checkpoint, oldest first")
    p = leaf(
        audit,
        "inclusion",
        inclusion,
        "prove the event at a position is in a checkpoint's tree; exit code 6 if the "
        "event no longer matches its hash",
    )
    p.add_argument("position", type=int, metavar="POSITION", help="the event's log position")
    p.add_argument(
        "--size", type=int, metavar="N", help="the checkpoint of N events (default: the latest)"
    )
    p = leaf(
        audit,
        "consistency",
        consistency,
        "prove the log a later checkpoint signed extends an earlier one; exit code 6 "
        "if it does not, or if an event up to it no longer matches its hash",
    )
    p.add_argument(
        "since",
        metavar="FILE|SIZE",
        help="a checkpoint kept from `audit checkpoint --format json`, or the "
        "size of one on record",
    )
    p.add_argument(
        "--to", type=int, metavar="N", help="the later checkpoint's size (default: the latest)"
    )
    p = leaf(
        audit,
        "export",
        export,
        "write a bundle of the log that verifies offline (docs/audit-bundle.md); exit "
        "code 6, and nothing written, if the log does not verify",
    )
    p.add_argument("file", metavar="FILE", help="the bundle to write (JSON Lines; must not exist)")
    p.add_argument("--community", metavar="ID", help="only this body's part of the log")
    p = leaf(
        audit,
        "verify-bundle",
        verify_bundle,
        "check a bundle with no database; exit code 6 if anything does not hold, 7 if "
        "it holds but no --key-id was given to check its key against",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--key-id",
        "--public-key",
        metavar="ID",
        dest="key_id",
        help="the key id (or, as --public-key, the whole public key in hex) the ledger's operator "
        "published; without it the bundle is checked only against the key it "
        "carries",
    )
    p.set_defaults(offline=True)
