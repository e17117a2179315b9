"""The audit bundle: a self-contained, offline-verifiable export of the log
(format: docs/audit-bundle.md; ADR 0014).

A bundle is UTF-8 JSON Lines: the signed checkpoints, then the events in position
order (each with its stored topic and state, its hash, its position and its index
among the log's events and, in a bundle of one body, its inclusion proof in the
anchor checkpoint), then a signed manifest. ``verify`` checks one with no database
and names every problem by aggregate, version and position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from uuid import UUID

import msgspec

from domain import merkle
from domain.checkpoints import Checkpoint, signed_by, time_text
from domain.hashing import GENESIS, AuditProblem, event_hash

FORMAT = "chanjiao-bundle-v1"


class CheckpointLine(Checkpoint, tag_field="kind", tag="checkpoint", forbid_unknown_fields=True):
    """A checkpoint as a bundle line: the same fields, tagged."""


class EventLine(msgspec.Struct, tag_field="kind", tag="event", forbid_unknown_fields=True):
    position: int
    index: int
    aggregate: UUID
    version: int
    topic: str
    state: str
    hash: str
    proof: list[str] | None = None


class ManifestLine(msgspec.Struct, tag_field="kind", tag="manifest", forbid_unknown_fields=True):
    format: str
    exported_at: datetime
    scope: str
    events: int
    anchor_size: int
    anchor_root: str
    events_digest: str
    key_id: str
    public_key: str
    signature: str

    def statement(self) -> bytes:
        return manifest_statement(
            self.exported_at,
            self.scope,
            self.events,
            self.anchor_size,
            self.anchor_root,
            self.events_digest,
        )


Line = CheckpointLine | EventLine | ManifestLine
_decoder = msgspec.json.Decoder(Line)
_encoder = msgspec.json.Encoder()


def manifest_statement(
    exported_at: datetime,
    scope: str,
    events: int,
    anchor_size: int,
    anchor_root: str,
    digest: str,
) -> bytes:
    return (
        f"{FORMAT}\n{time_text(exported_at)}\n{scope}\n{events}\n{anchor_size}\n"
        f"{anchor_root}\n{digest}\n"
    ).encode()


class Digest:
    """SHA-256 over "<position> <aggregate> <version> <hash>\\n" for each event, in
    order: the manifest signs the list, so no event line can be dropped, added or
    moved without the signature failing."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.count = 0

    def add(self, position: int, aggregate: UUID, version: int, digest: str) -> None:
        self._sha.update(f"{position} {aggregate} {version} {digest}\n".encode())
        self.count += 1

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def encode(line: Line) -> bytes:
    return _encoder.encode(line) + b"\n"


class BundleVerification(msgspec.Struct, frozen=True):
    ok: bool
    scope: str | None
    key_id: str | None
    events_checked: int
    checkpoints_checked: int
    problems: list[AuditProblem]
    key_pinned: bool = False
    """Checked against the key the operator published; else only against the key
    the bundle carries, which anyone could have signed it with."""


def verify(lines: Iterable[bytes], trusted_key: str | None = None) -> BundleVerification:
    """Check a bundle read line by line: every event's hash from its chain, every
    event in the signed tree, every signature, the manifest's list of events.
    ``trusted_key``: the key id (or the whole public key, in hex) the ledger's
    operator published; without it the bundle is only shown to be consistent with the
    key it carries."""
    check = _Check(trusted_key)
    problems = list(check.run(lines))
    m = check.manifest
    return BundleVerification(
        not problems,
        m.scope if m else None,
        m.key_id if m else None,
        check.events,
        len(check.checkpoints),
        problems,
        trusted_key is not None,
    )


class _Check:
    def __init__(self, trusted_key: str | None) -> None:
        self.trusted_key = trusted_key
        self.manifest: ManifestLine | None = None
        self.checkpoints: list[Checkpoint] = []
        self.events = 0

    def run(self, lines: Iterable[bytes]) -> Iterator[AuditProblem]:
        seen: dict[UUID, tuple[int, bytes]] = {}
        tree, digest, last_position = merkle.Tree(), Digest(), 0
        leaves: list[tuple[EventLine, bytes]] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            if self.manifest is not None:
                yield _problem(
                    "format", f"line {number} comes after the manifest, which ends the bundle"
                )
                continue
            try:
                line = _decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                yield _problem("format", f"line {number} is not a bundle line: {e}")
                continue
            if encode(line) != raw:
                yield _problem(
                    "format",
                    f"line {number} is not written as the exporter writes "
                    "it (a key repeated, keys reordered, spaces, or no newline at "
                    "its end)",
                )
            if isinstance(line, CheckpointLine):
                if self.events:
                    yield _problem("format", f"line {number}: a checkpoint after the events")
                self.checkpoints.append(line)
            elif isinstance(line, ManifestLine):
                self.manifest = line
            else:
                self.events += 1
                if line.position <= last_position:
                    yield AuditProblem(
                        "reordered",
                        line.aggregate,
                        line.version,
                        line.position,
                        f"line {number} is not after position {last_position}",
                    )
                last_position = max(last_position, line.position)
                actual = yield from self._event(seen, line)
                digest.add(line.position, line.aggregate, line.version, line.hash)
                if line.proof is None:
                    if line.index != tree.size:
                        yield AuditProblem(
                            "reordered",
                            line.aggregate,
                            line.version,
                            line.position,
                            f"line {number} says it is event {line.index} of the log; "
                            f"it is event {tree.size} of the bundle",
                        )
                    tree.append(merkle.leaf_hash(actual))
                    yield from self._passed(tree, line.position)
                else:
                    leaves.append((line, actual))
        yield from self._close(tree, digest, leaves)

    def _event(self, seen: dict[UUID, tuple[int, bytes]], e: EventLine) -> Iterator[AuditProblem]:
        last_version, last_hash = seen.get(e.aggregate, (0, GENESIS))
        actual = event_hash(last_hash, e.topic, e.aggregate, e.version, e.state.encode())
        if e.version <= last_version:
            yield AuditProblem(
                "reordered",
                e.aggregate,
                e.version,
                e.position,
                f"version {e.version} comes after version {last_version}",
            )
        elif e.version > last_version + 1:
            yield AuditProblem(
                "deleted",
                e.aggregate,
                last_version + 1,
                None,
                f"versions {last_version + 1}–{e.version - 1} are missing before "
                f"position {e.position}",
            )
        elif actual.hex() != e.hash:
            yield AuditProblem(
                "altered",
                e.aggregate,
                e.version,
                e.position,
                "the event does not match its hash: its data, type, aggregate or "
                "version was changed, or its hash",
            )
        seen[e.aggregate] = (max(e.version, last_version), _hex(e.hash) or actual)
        return actual

    def _passed(self, tree: merkle.Tree, position: int) -> Iterator[AuditProblem]:
        """In a whole-log bundle: the checkpoints whose size the tree just reached."""
        for c in self.checkpoints:
            if c.size == tree.size:
                if c.position != position:
                    yield _checkpoint(
                        c, f"its event {c.size} is at position {position}, not {c.position}"
                    )
                elif tree.root().hex() != c.root:
                    yield _checkpoint(
                        c,
                        "the events do not have the root it signed: one was "
                        "altered, added, removed or moved",
                    )

    def _close(
        self, tree: merkle.Tree, digest: Digest, leaves: list[tuple[EventLine, bytes]]
    ) -> Iterator[AuditProblem]:
        m = self.manifest
        if m is None:
            yield _problem(
                "manifest", "the bundle has no manifest (its last line): it was cut short"
            )
            return
        if not signed_by(m.public_key, m.key_id, m.signature, m.statement()):
            yield _problem("manifest", "the manifest does not match its signature")
        if self.trusted_key is not None and self.trusted_key.lower() not in (
            m.key_id,
            m.public_key,
        ):
            yield _problem(
                "manifest",
                f"the bundle is signed by key {m.key_id}, not by the "
                f"trusted key {self.trusted_key}",
            )
        if digest.hexdigest() != m.events_digest or digest.count != m.events:
            yield _problem(
                "manifest",
                f"the bundle's {digest.count} events are not the list "
                f"of {m.events} the manifest signed: events were added, removed or "
                "moved",
            )
        for c in self.checkpoints:
            if c.public_key != m.public_key:
                yield _checkpoint(c, f"signed by key {c.key_id}, not the bundle's {m.key_id}")
            elif not c.signature_ok():
                yield _checkpoint(c, "its signature does not verify: altered or forged")
        anchor = next(
            (c for c in self.checkpoints if c.size == m.anchor_size and c.root == m.anchor_root),
            None,
        )
        if anchor is None:
            yield _problem(
                "manifest",
                f"the bundle holds no checkpoint of {m.anchor_size} "
                f"events with root {m.anchor_root}",
            )
            return
        if m.scope == "all" and tree.size != anchor.size:
            yield _checkpoint(anchor, f"signed {anchor.size} events; the bundle holds {tree.size}")
        top = _hex(anchor.root) or b""
        for e, actual in leaves:
            path = [_hex(h) or b"" for h in e.proof or ()]
            if not merkle.verify_inclusion(
                e.index, anchor.size, merkle.leaf_hash(actual), path, top
            ):
                yield AuditProblem(
                    "not included",
                    e.aggregate,
                    e.version,
                    e.position,
                    f"the event is not leaf {e.index} of the checkpoint of {anchor.size} events",
                )


def _hex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _problem(kind: str, detail: str) -> AuditProblem:
    return AuditProblem(kind, None, None, None, detail)


def _checkpoint(c: Checkpoint, detail: str) -> AuditProblem:
    return AuditProblem(
        "checkpoint",
        None,
        None,
        c.position,
        f"the checkpoint of {c.size} events up to position {c.position}: {detail}",
    )
