"""The ledger's audit side (ADR 0014): verification, signed checkpoints and proofs.

Mixed into ``Ledger`` like the governance and cost-sharing commands. Everything here
reads the chain and checkpoint tables next to the events; only ``checkpoint``
writes, and only after the walk found the log intact: a checkpoint never vouches
for a log that does not verify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from adapters.chain import Chain, Verification, Walk, verify
from adapters.signing import SigningKey, key_path
from domain import bundle, merkle
from domain.checkpoints import Checkpoint
from domain.council import council_id_for
from domain.errors import ConfigurationError, Conflict, InvalidInput, NotFound, TamperedRecord
from domain.hashing import named


class InclusionProof(msgspec.Struct, frozen=True):
    """That the event at ``position`` is leaf ``index`` of the tree ``checkpoint`` signed:
    ``verify_inclusion(index, checkpoint.size, leaf_hash(event_hash), proof, root)``."""

    position: int
    aggregate: UUID
    version: int
    event_hash: str
    index: int
    checkpoint: Checkpoint
    proof: list[str]
    verified: bool


class ConsistencyProof(msgspec.Struct, frozen=True):
    """That the tree of the first ``first_size`` events is a prefix of the tree
    ``second`` signed: ``verify_consistency(first_size, second.size, first_root,
    second.root, proof)``, ``first_root`` being the root of the checkpoint the auditor
    kept. ``first`` is the checkpoint of that size on record here, if any, and
    ``verified`` the check against it."""

    first_size: int
    first: Checkpoint | None
    second: Checkpoint
    proof: list[str]
    verified: bool | None


class NoCheckpoint(NotFound):
    pass


class AuditCommands:
    chain: Chain
    factory: Any
    signing_key: Path | None = None
    """This ledger's key file; None: ``CHANJIAO_SIGNING_KEY``'s, read when it is needed."""

    def _chain(self) -> tuple[Chain, Any]:
        chain = getattr(self, "chain", None)
        if chain is None:
            raise ConfigurationError("memory:// keeps no hashes: there is nothing to audit")
        return chain, getattr(self.factory, "datastore")  # noqa: B009

    def verify(self, progress: Callable[[int], None] | None = None) -> Verification:
        """Every aggregate's hash chain and every checkpoint recomputed from the stored
        events. Checkpoints are also checked against this ledger's key, when its file
        is here."""
        chain, datastore = self._chain()
        return verify(chain, datastore, progress, key_id=_own_key_id(self.signing_key))

    def checkpoints(self) -> list[Checkpoint]:
        chain, datastore = self._chain()
        return chain.checkpoints(datastore)

    def checkpoint(
        self,
        key: SigningKey | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Checkpoint:
        """Walk the whole log, and if it verifies, sign and keep the root of its tree.
        If the log has not grown since the last checkpoint, that one is the answer."""
        chain, datastore = self._chain()
        key = key or SigningKey.load(self.signing_key)
        kept = chain.checkpoints(datastore)
        # Earlier checkpoints must hold and their signatures verify; one signed with
        # an earlier key (the key was replaced) does not stop the signer.
        walk = Walk(chain, datastore, kept)
        problems = list(walk.problems(progress))
        if problems:
            raise TamperedRecord(
                f"the log does not verify ({len(problems)} problems: {named(problems)}); no "
                "checkpoint was signed. Run `chanjiao audit verify` for the list"
            )
        if walk.tree.size == 0:
            raise Conflict("the log holds no events yet: there is nothing to checkpoint")
        if kept and kept[-1].size == walk.tree.size:
            return kept[-1]
        signed = key.sign(
            walk.tree.size,
            walk.position,
            walk.tree.root().hex(),
            datetime.now(UTC).replace(microsecond=0),
        )
        chain.record_checkpoint(datastore, signed)
        # Another process may have kept one of the same size first: answer with what is kept.
        return next(c for c in chain.checkpoints(datastore) if c.size == signed.size)

    def checkpoint_of(self, size: int | None = None) -> Checkpoint:
        """The checkpoint of ``size`` events, or the latest."""
        kept = self.checkpoints()
        if not kept:
            raise NoCheckpoint("no checkpoint has been signed yet: run `chanjiao audit checkpoint`")
        if size is None:
            return kept[-1]
        for c in kept:
            if c.size == size:
                return c
        sizes = ", ".join(str(c.size) for c in kept[-5:])
        raise NoCheckpoint(f"no checkpoint of {size} events was signed (the latest: {sizes})")

    def prove_inclusion(self, position: int, size: int | None = None) -> InclusionProof:
        """The audit path of the event at ``position`` in the tree a checkpoint signed
        (the latest, or the one of ``size`` events)."""
        chain, datastore = self._chain()
        checkpoint = self.checkpoint_of(size)
        leaves = chain.leaves(datastore, checkpoint.size)
        index = next((i for i, leaf in enumerate(leaves) if leaf[0] == position), None)
        if index is None:
            raise InvalidInput(
                f"no event at position {position} is covered by the checkpoint of "
                f"{checkpoint.size} events up to position {checkpoint.position}"
            )
        hashes = [merkle.leaf_hash(h) for *_, h in leaves]
        path = merkle.inclusion_proof(index, hashes)
        _, aggregate, version, event = leaves[index]
        # The tree's leaves are the hashes on record: the event must still match its own.
        problem = chain.links(datastore, position, position, 1)[0].problem()
        if problem is not None:
            raise TamperedRecord(
                f"no proof is given for the event at position {position}: {named([problem])}. "
                "It was changed behind the ledger's back; run `chanjiao audit verify` for the "
                "whole list"
            )
        ok = merkle.verify_inclusion(
            index, checkpoint.size, hashes[index], path, bytes.fromhex(checkpoint.root)
        )
        return InclusionProof(
            position,
            aggregate,
            version,
            event.hex(),
            index,
            checkpoint,
            [h.hex() for h in path],
            ok,
        )

    def prove_consistency(
        self, first_size: int, second_size: int | None = None
    ) -> ConsistencyProof:
        """That the log of ``first_size`` events is a prefix of the log a later
        checkpoint (the latest, or the one of ``second_size`` events) signed."""
        chain, datastore = self._chain()
        second = self.checkpoint_of(second_size)
        if not 0 < first_size <= second.size:
            raise InvalidInput(
                f"a consistency proof needs 0 < first size ≤ {second.size} (the checkpoint's "
                f"size); got {first_size}"
            )
        # The proof is computed from the hashes on record: the events they stand for
        # must still match them, up to the later checkpoint.
        walk = Walk(
            chain,
            datastore,
            [c for c in self.checkpoints() if c.size <= second.size],
            until=second.position,
        )
        problems = list(walk.problems())
        if problems:
            raise TamperedRecord(
                f"no consistency proof is given: the log up to position {second.position} (the "
                f"checkpoint of {second.size} events) no longer matches its hashes — "
                f"{named(problems)}. Run `chanjiao audit verify` for the whole list"
            )
        hashes = [merkle.leaf_hash(h) for *_, h in chain.leaves(datastore, second.size)]
        path = merkle.consistency_proof(first_size, hashes)
        first = next((c for c in self.checkpoints() if c.size == first_size), None)
        ok = (
            None
            if first is None
            else merkle.verify_consistency(
                first_size, second.size, bytes.fromhex(first.root), bytes.fromhex(second.root), path
            )
        )
        return ConsistencyProof(first_size, first, second, [h.hex() for h in path], ok)

    def export(
        self, community: str | UUID | None = None, key: SigningKey | None = None
    ) -> BundleWriter:
        """A bundle of the whole log, or of one body's aggregates (the body, its
        council, its agreements and every unit that was ever its member), anchored
        in a checkpoint signed now (so the log is verified first)."""
        chain, datastore = self._chain()
        members, scope = None, "all"
        if community is not None:
            ledger: Any = self
            body = ledger.community(community)
            members = {
                body.id,
                council_id_for(body.id),
                *(p.unit_id for p in body.periods),
                *ledger.agreement_ids(body.id),
            }
            scope = f"community {body.id}"
        key = key or SigningKey.load(self.signing_key)
        anchor = self.checkpoint(key)
        return BundleWriter(chain, datastore, key, anchor, members, scope)


class BundleWriter:
    """An export, checked and anchored before its first line is written: ``scope``,
    the ``anchor`` checkpoint it is proved against, and ``lines()`` to stream."""

    def __init__(
        self,
        chain: Chain,
        datastore: Any,
        key: SigningKey,
        anchor: Checkpoint,
        members: set[UUID] | None,
        scope: str,
    ) -> None:
        self.chain, self.datastore, self.key = chain, datastore, key
        self.anchor, self.members, self.scope = anchor, members, scope

    def lines(self) -> Iterator[bytes]:
        chain, datastore, anchor = self.chain, self.datastore, self.anchor
        for c in chain.checkpoints(datastore):
            if c.size <= anchor.size:
                yield bundle.encode(bundle.CheckpointLine(*msgspec.structs.astuple(c)))
        levels = None
        if self.members is not None:  # a part of the log: each event proves its inclusion
            leaves = chain.leaves(datastore, anchor.size)
            levels = merkle.Levels([merkle.leaf_hash(h) for *_, h in leaves])
            del leaves
        digest, index = bundle.Digest(), -1
        for rows in chain.pages(datastore, until=anchor.position):
            for row in rows:
                index += 1
                aggregate = row["aggregate"]
                aggregate = aggregate if isinstance(aggregate, UUID) else UUID(aggregate)
                if self.members is not None and aggregate not in self.members:
                    continue
                proof = None if levels is None else [h.hex() for h in levels.proof(index)]
                line = bundle.EventLine(
                    row["position"],
                    index,
                    aggregate,
                    row["version"],
                    row["topic"],
                    bytes(row["state"]).decode(),
                    row["hash"] or "",
                    proof,
                )
                digest.add(line.position, aggregate, line.version, line.hash)
                yield bundle.encode(line)
        at = datetime.now(UTC).replace(microsecond=0)
        statement = bundle.manifest_statement(
            at, self.scope, digest.count, anchor.size, anchor.root, digest.hexdigest()
        )
        yield bundle.encode(
            bundle.ManifestLine(
                bundle.FORMAT,
                at,
                self.scope,
                digest.count,
                anchor.size,
                anchor.root,
                digest.hexdigest(),
                self.key.id,
                self.key.public.hex(),
                self.key.sign_bytes(statement),
            )
        )


def _own_key_id(signing_key: Path | None) -> str | None:
    """This ledger's key id, when its key file is here (verification never creates one)."""
    path = key_path(signing_key)
    return SigningKey.load(path, create=False).id if path.exists() else None
