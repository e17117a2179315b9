"""An independent checker for chanjiao audit bundles (format `chanjiao-bundle-v1`).

Written from docs/audit-bundle.md alone, with RFC 9162 §2.1 (Merkle trees, inclusion
proofs) and RFC 8032 (Ed25519), using only the standard library and `cryptography`.
It streams the bundle line by line and applies checks 1-6 of "Checking a bundle".

    python docs/examples/check_bundle.py BUNDLE [--key-id ID]

Exit status: 0 the bundle passes, 1 it does not, 2 usage error.
"""

import argparse
import hashlib
import json
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "chanjiao-bundle-v1"
H16, H64, H128 = (re.compile(f"[0-9a-f]{{{n}}}") for n in (16, 64, 128))  # hex: lowercase
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INT, STR, PROOF = "int", "str", "proof"
FIELDS = {  # every field of every kind; unknown or missing fields are an error
    "checkpoint": {
        "size": INT,
        "position": INT,
        "root": H64,
        "recorded_at": STR,
        "key_id": H16,
        "public_key": H64,
        "signature": H128,
    },
    "event": {
        "position": INT,
        "index": INT,
        "aggregate": UUID,
        "version": INT,
        "topic": STR,
        "state": STR,
        "hash": H64,
        "proof": PROOF,
    },
    "manifest": {
        "format": STR,
        "exported_at": STR,
        "scope": STR,
        "events": INT,
        "anchor_size": INT,
        "anchor_root": H64,
        "events_digest": H64,
        "key_id": H16,
        "public_key": H64,
        "signature": H128,
    },
}


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def valid(value, kind) -> bool:
    if kind == INT:  # bool is an int in Python, floats (NaN, 2.0) are not: refuse both
        return type(value) is int and value >= 0
    if kind == PROOF:
        return value is None or (isinstance(value, list) and all(valid(h, H64) for h in value))
    if not isinstance(value, str):
        return False
    value.encode("utf-8")  # a lone surrogate ("\ud800") has no UTF-8: UnicodeEncodeError
    return kind == STR or kind.fullmatch(value) is not None


def _object(pairs):  # a field given twice is refused rather than silently overwritten
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate field")
    return dict(pairs)


DECODER = json.JSONDecoder(object_pairs_hook=_object)


def parse(raw: bytes) -> dict:
    """Check 1: the line is one JSON object of a known kind with exactly its fields."""
    if not raw.endswith(b"\n"):
        raise ValueError("does not end in a newline (bundle cut short?)")
    obj = DECODER.decode(raw.decode("utf-8"))
    if not isinstance(obj, dict) or obj.get("kind") not in FIELDS:
        raise ValueError("not a checkpoint, event or manifest")
    spec, keys = FIELDS[obj["kind"]], set(obj) - {"kind"}
    if keys != set(spec):
        raise ValueError(
            f"{obj['kind']}: unknown fields {sorted(keys - set(spec))}, "
            f"missing fields {sorted(set(spec) - keys)}"
        )
    for name, kind in spec.items():
        if not valid(obj[name], kind):
            raise ValueError(f"{obj['kind']}: bad {name} {obj[name]!r}")
    return obj


def signed(public_key_hex: str, signature_hex: str, message: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message.encode("utf-8"))
        return True
    except (InvalidSignature, ValueError):  # ValueError: not a valid public key
        return False


def event_hash(prev: bytes, ev: dict) -> bytes:
    # `state` is hashed as the very string of the line, never re-encoded.
    return sha256(
        prev,
        b"chanjiao-event-v1\n",
        ev["topic"].encode(),
        b"\n",
        ev["aggregate"].encode(),
        b"\n",
        str(ev["version"]).encode(),
        b"\n",
        ev["state"].encode(),
    )


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01", left, right)


def peaks_root(peaks: list) -> bytes:
    """RFC 9162 §2.1.1 root from the stack of complete subtrees, largest first. Splitting
    at the largest power of two < n makes the root fold the peaks from the right."""
    root = peaks[-1][1] if peaks else sha256(b"")
    for _, h in reversed(peaks[:-1]):
        root = node(h, root)
    return root


def verify_inclusion(index: int, size: int, leaf: bytes, path: list, root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step (`leaf` is already SHA-256(0x00 ‖ event hash))."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in map(bytes.fromhex, path):
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:  # fn == sn: climb past the missing right siblings
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


class Checker:
    """One bundle, fed line by line; keeps per-aggregate heads and Merkle peaks only."""

    def __init__(self):
        self.problems = 0
        self.checkpoints, self.sizes, self.manifest = [], set(), None
        self.n = 0  # event lines so far
        self.digest = hashlib.sha256()  # events_digest, recomputed
        self.last = {}  # aggregate -> (highest version, its hash field)
        self.last_position = None
        self.peaks = []  # [(height, hash)] complete subtrees of the tree
        self.at_size = {0: (sha256(b""), None)}  # checkpoint size -> (root, position) there
        self.bad_index = None  # [first event with a wrong index, how many]
        self.proofs, self.no_proof = [], []  # (index, leaf, proof, name); first unproved

    def problem(self, msg: str) -> None:
        self.problems += 1
        print(msg)

    def line(self, lineno: int, raw: bytes) -> None:
        try:
            obj = parse(raw)
        except ValueError as e:
            return self.problem(f"line {lineno}: {e}")
        if self.manifest is not None:
            self.problem(f"line {lineno}: {obj['kind']} after the manifest")
        elif obj["kind"] == "manifest":
            self.manifest = obj
        elif obj["kind"] == "event":
            self.event(obj)
        elif self.n:  # layout: checkpoints, then events, then the manifest
            self.problem(f"line {lineno}: checkpoint after the event lines")
        else:
            self.checkpoints.append(obj)
            self.sizes.add(obj["size"])

    def event(self, ev: dict) -> None:
        """Check 4, and what checks 2, 5 and 6 need to keep of each event."""
        a, v, pos, field = ev["aggregate"], ev["version"], ev["position"], ev["hash"]
        name = f"aggregate {a} version {v} position {pos}"
        self.digest.update(f"{pos} {a} {v} {field}\n".encode())
        if self.last_position is not None and pos <= self.last_position:
            self.problem(f"out of order: {name} (after position {self.last_position})")
        self.last_position = pos
        prev_v, prev_hash = self.last.get(a, (0, bytes(32)))
        recomputed = None
        if v == prev_v + 1:  # prev is the previous version's hash *field*
            recomputed = event_hash(prev_hash, ev)
            if recomputed.hex() != field:
                self.problem(f"altered: {name}")
        elif v > prev_v:  # without version v-1 there is no prev to recompute from
            self.problem(f"gap: {name} (version {prev_v + 1} missing: an event deleted)")
        else:
            self.problem(f"reordered: {name} (comes after version {prev_v})")
        if v > prev_v:
            self.last[a] = (v, bytes.fromhex(field))
        # The tree is over *recomputed* hashes (the field only where none can be made).
        leaf = sha256(b"\x00", recomputed or bytes.fromhex(field))
        if ev["index"] != self.n:
            self.bad_index = self.bad_index or [f"{name} has index {ev['index']}", 0]
            self.bad_index[1] += 1
        self.peaks.append((0, leaf))
        while len(self.peaks) > 1 and self.peaks[-1][0] == self.peaks[-2][0]:
            (height, left), (_, right) = self.peaks[-2:]
            self.peaks[-2:] = [(height + 1, node(left, right))]
        self.n += 1
        if self.n in self.sizes:
            self.at_size[self.n] = (peaks_root(self.peaks), pos)
        if ev["proof"] is None:
            self.no_proof = self.no_proof or [name]
        else:
            self.proofs.append((ev["index"], leaf, ev["proof"], name))

    def finish(self, operator_key_id) -> None:
        """Checks 2, 3, 5 and 6, once the manifest (the last line) is known."""
        m, n, problem = self.manifest, self.n, self.problem
        if m is None:
            return problem("no manifest line: the bundle was cut short")
        # ---- 2. manifest
        if m["format"] != FORMAT:
            problem(f"manifest: format {m['format']!r}, expected {FORMAT!r}")
        if hashlib.sha256(bytes.fromhex(m["public_key"])).hexdigest()[:16] != m["key_id"]:
            problem(f"manifest: key_id {m['key_id']} is not the key id of its public_key")
        if not signed(
            m["public_key"],
            m["signature"],
            f"{FORMAT}\n{m['exported_at']}\n{m['scope']}\n{m['events']}\n"
            f"{m['anchor_size']}\n{m['anchor_root']}\n{m['events_digest']}\n",
        ):
            problem("manifest: signature does not verify")
        # The operator may be pinned by key id or by the whole public key (hex).
        if operator_key_id is not None and operator_key_id.lower() not in (
            m["key_id"],
            m["public_key"],
        ):
            problem(f"manifest: key_id {m['key_id']} is not the operator's {operator_key_id}")
        if n != m["events"]:
            problem(f"manifest: {n} event lines, manifest says {m['events']}")
        if self.digest.hexdigest() != m["events_digest"]:
            problem("manifest: events_digest differs (events added, removed or moved)")
        # ---- 3. checkpoints. "Its signature verifies" is read as: under the manifest's
        # key. A checkpoint carrying any other public_key is refused, whatever its key_id.
        for c in self.checkpoints:
            what = f"checkpoint size {c['size']} position {c['position']}"
            if c["key_id"] != m["key_id"] or c["public_key"] != m["public_key"]:
                problem(f"{what}: key {c['key_id']} is not the manifest's key")
            if not signed(
                m["public_key"],
                c["signature"],
                f"chanjiao-checkpoint-v1\n{c['size']}\n{c['position']}\n"
                f"{c['root']}\n{c['recorded_at']}\n",
            ):
                problem(f"{what}: signature does not verify")
        if not any(
            c["size"] == m["anchor_size"] and c["root"] == m["anchor_root"]
            for c in self.checkpoints
        ):
            problem(f"manifest: no checkpoint is the anchor (size {m['anchor_size']})")
        if m["scope"] == "all":  # ---- 5. whole-log bundle
            if self.bad_index:
                problem(f"index: {self.bad_index[0]} ({self.bad_index[1]} wrong indexes)")
            if n != m["anchor_size"]:
                problem(f"whole log: {n} events, the anchor has {m['anchor_size']}")
            if self.proofs:
                problem(f"whole log: {len(self.proofs)} events carry a proof, not null")
            for c in self.checkpoints:
                what = f"checkpoint size {c['size']} position {c['position']}"
                if c["size"] not in self.at_size:
                    problem(f"{what}: the bundle holds only {n} events")
                    continue
                root, pos = self.at_size[c["size"]]
                if root.hex() != c["root"]:
                    problem(f"{what}: root is not the root over the events ({root.hex()})")
                if pos is not None and pos != c["position"]:  # size 0 has no last event
                    problem(f"{what}: the event at index {c['size'] - 1} is at {pos}")
        elif re.fullmatch(f"community {UUID.pattern}", m["scope"]):  # ---- 6. one body
            anchor = bytes.fromhex(m["anchor_root"])
            for index, leaf, path, name in self.proofs:
                if not verify_inclusion(index, m["anchor_size"], leaf, path, anchor):
                    problem(f"not included: {name}")
            if self.no_proof:
                problem(
                    f"not included: {self.no_proof[0]} (and all {n - len(self.proofs)} "
                    "events without a proof)"
                )
        else:
            problem(f"manifest: unknown scope {m['scope']!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument(
        "--key-id", help="the operator's published key id (16 hex digits) or public key (64)"
    )
    try:
        args = ap.parse_args(argv)
        f = open(args.bundle, "rb")  # noqa: SIM115 (closed after the check)
    except SystemExit as e:  # argparse: usage error (or --help)
        return 2 if e.code else 0
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checker = Checker()
    with f:
        for lineno, raw in enumerate(f, 1):  # one line at a time: events are not kept
            checker.line(lineno, raw)
    checker.finish(args.key_id)
    if checker.problems:
        print(f"FAILED: {checker.problems} problems")
        return 1
    m = checker.manifest
    print(f"OK: {checker.n} events, {len(checker.checkpoints)} checkpoints, key {m['key_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
