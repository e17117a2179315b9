"""Concurrent writers on one community, each with its own connection.

The ledger must never lose an update: a command whose aggregate changed
underneath it is re-run against the new state with every rule re-checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest

from bootstrap import Ledger
from domain.community import Community
from domain.errors import AlreadyMember, ConcurrentChange
from tests.factories import city_body_with_units, credit_code

UNITS = [credit_code(i) for i in range(1, 7)]


def setup_body(url: str) -> UUID:
    """Six enterprises (``UNITS``) and a city body that admitted none of them."""
    ledger = Ledger(url)
    try:
        body, codes = city_body_with_units(ledger, len(UNITS))
        assert codes == UNITS
        return body
    finally:
        ledger.close()


class InterleavingLedger(Ledger):
    """Holds every writer after its first read until all writers have read, so
    all of them decide on the same version and all but one must conflict."""

    name = Ledger.name  # the same tables as the ledger's

    def __init__(self, url: str, barrier: threading.Barrier) -> None:
        super().__init__(url)
        self.barrier = barrier
        self.reads = 0

    def community(self, ref: str | UUID) -> Community:
        body = super().community(ref)
        self.reads += 1
        if self.reads == 1:
            self.barrier.wait(timeout=10)
        return body


def race(url: str, body: UUID, codes: list[str]) -> tuple[list[object], list[int]]:
    barrier = threading.Barrier(len(codes))
    ledgers = [InterleavingLedger(url, barrier) for _ in codes]

    def admit(i: int) -> object:
        try:
            ledgers[i].admit_member(
                body,
                codes[i],
                role="participant",
                effective_on="2024-03-01",
                principal=f"writer:{i}",
            )
            return "ok"
        except AlreadyMember as e:
            return e

    try:
        with ThreadPoolExecutor(len(codes)) as pool:
            outcomes = list(pool.map(admit, range(len(codes))))
        return outcomes, [ledger.reads for ledger in ledgers]
    finally:
        for ledger in ledgers:
            ledger.close()


def test_concurrent_admissions_of_different_units_all_succeed(database_url):
    body = setup_body(database_url)
    outcomes, reads = race(database_url, body, UNITS[:4])
    assert outcomes == ["ok"] * 4
    assert max(reads) > 1, "the interleaving forced at least one re-run"
    ledger = Ledger(database_url)
    try:
        admitted = {p.unit_id for p in ledger.community(body).periods}
        assert admitted == {ledger.unit(code).id for code in UNITS[:4]}
        assert ledger.community(body).version == 1 + 4
    finally:
        ledger.close()


def test_concurrent_admissions_of_the_same_unit_admit_it_exactly_once(database_url):
    body = setup_body(database_url)
    outcomes, _ = race(database_url, body, [UNITS[0]] * 3)
    assert outcomes.count("ok") == 1
    refused = [o for o in outcomes if o != "ok"]
    assert len(refused) == 2
    assert all("is already an active member" in str(e) for e in refused)
    ledger = Ledger(database_url)
    try:
        assert len(ledger.community(body).periods) == 1
    finally:
        ledger.close()


def cli(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CHANJIAO_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_separate_processes_admitting_at_once_lose_nothing(postgres_url):
    body = setup_body(postgres_url)
    different = [
        cli(postgres_url, "member", "admit", str(body), code, "--effective-on", "2024-03-01")
        for code in UNITS[:4]
    ]
    same = [
        cli(postgres_url, "member", "admit", str(body), UNITS[5], "--effective-on", "2024-03-01")
        for _ in range(3)
    ]
    results = [(p.wait(timeout=60), p.communicate()) for p in different + same]
    assert [code for code, _ in results[:4]] == [0, 0, 0, 0], results
    same_codes = sorted(code for code, _ in results[4:])
    assert same_codes == [0, 4, 4], results
    assert all("already an active member" in err for code, (_, err) in results[4:] if code)
    ledger = Ledger(postgres_url)
    try:
        admitted = [p.unit_id for p in ledger.community(body).periods]
        assert sorted(admitted) == sorted(ledger.unit(c).id for c in [*UNITS[:4], UNITS[5]])
    finally:
        ledger.close()


@pytest.mark.parametrize("store", ["sqlite"])
def test_separate_processes_on_one_sqlite_file_lose_nothing(tmp_path, store):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    body = setup_body(url)
    procs = [
        cli(url, "member", "admit", str(body), code, "--effective-on", "2024-03-01")
        for code in UNITS[:4]
    ]
    results = [(p.wait(timeout=60), p.communicate()) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    ledger = Ledger(url)
    try:
        assert len(ledger.community(body).periods) == 4
    finally:
        ledger.close()


def setup_agreement(url: str) -> UUID:
    """An approved agreement of a body whose four members share it equally."""
    body = setup_body(url)
    ledger = Ledger(url)
    p = "p"
    try:
        for code in UNITS[:4]:
            ledger.admit_member(
                body, code, role="participant", effective_on="2024-02-01", principal=p
            )
            ledger.assign_seat(
                body,
                code,
                representative="代表",
                office="director",
                effective_on="2024-02-01",
                principal=p,
            )
        meeting = ledger.record_meeting(body, held_on="2024-03-01", present=UNITS[:4], principal=p)
        number = ledger.record_resolution(
            body,
            meeting=meeting,
            matter="agreement",
            title="批准协议",
            votes_for=4,
            votes_against=0,
            abstentions=0,
            principal=p,
        ).number
        agreement = ledger.draft_agreement(
            body,
            title="共享实训基地",
            drafted_on="2024-02-15",
            principal=p,
            parties=[
                {"unit_id": c, "cost_share_bp": 2500, "benefit_share_bp": 2500} for c in UNITS[:4]
            ],
        ).id
        ledger.approve_agreement(agreement, resolution=number or "", principal=p)
        return agreement
    finally:
        ledger.close()


class InterleavingAgreementLedger(Ledger):
    """Every writer reads the agreement at the same version before any saves."""

    name = Ledger.name

    def __init__(self, url: str, barrier: threading.Barrier) -> None:
        super().__init__(url)
        self.barrier = barrier
        self.reads = 0

    def agreement(self, ref):  # type: ignore[no-untyped-def]
        record = super().agreement(ref)
        self.reads += 1
        if self.reads == 1:
            self.barrier.wait(timeout=10)
        return record


def test_concurrent_contributions_to_one_agreement_are_all_recorded_once(database_url):
    agreement = setup_agreement(database_url)
    barrier = threading.Barrier(4)
    ledgers = [InterleavingAgreementLedger(database_url, barrier) for _ in range(4)]

    def contribute(i: int) -> int:
        return (
            ledgers[i]
            .record_contribution(
                agreement,
                UNITS[i],
                kind="funds",
                amount=f"{i + 1}000.00",
                contributed_on="2024-04-01",
                description="投入",
                principal=f"writer:{i}",
            )
            .number
        )

    try:
        with ThreadPoolExecutor(4) as pool:
            numbers = list(pool.map(contribute, range(4)))
        reads = [ledger.reads for ledger in ledgers]
    finally:
        for ledger in ledgers:
            ledger.close()
    assert sorted(numbers) == [1, 2, 3, 4]
    assert max(reads) > 1, "the interleaving forced at least one re-run"
    ledger = Ledger(database_url)
    try:
        record = ledger.agreement(agreement)
        assert [e.number for e in record.entries] == [1, 2, 3, 4]
        assert sorted(e.amount_fen for e in record.entries) == [100000, 200000, 300000, 400000]
    finally:
        ledger.close()


def test_threads_sharing_one_ledger_record_every_cost_once_and_never_fail_on_the_chain(
    database_url,
):
    """As the API's threads do: 8 threads on one ledger, costs on one agreement. Each
    clash is a conflict the command re-runs (the chain is written under the table lock
    on PostgreSQL), never a store failure."""
    agreement = setup_agreement(database_url)
    ledger = Ledger(database_url)
    failures: list[str] = []

    def record(i: int) -> int:
        done = 0
        for n in range(25):
            try:
                ledger.record_cost(
                    agreement,
                    amount="1.00",
                    incurred_on="2024-04-01",
                    description=f"t{i}-{n}",
                    principal=f"writer:{i}",
                )
                done += 1
            except ConcurrentChange:
                pass  # a refusal the caller may retry: nothing recorded
            except Exception as e:
                failures.append(f"{type(e).__name__}: {e}")
        return done

    try:
        with ThreadPoolExecutor(8) as pool:
            recorded = sum(pool.map(record, range(8)))
        entries = ledger.agreement(agreement).entries
        assert not failures, failures[:3]
        assert len(entries) == recorded and len({e.description for e in entries}) == recorded
        assert recorded >= 150, recorded
        assert ledger.verify().ok
    finally:
        ledger.close()
