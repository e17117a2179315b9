"""The short in-process cache of verified tokens (issue 16, step 5): a request seldom
reads the token table; a revocation made here is honoured at once, one made by another
process (another ``chanjiao serve`` worker, ``chanjiao token revoke``) within the cache
period; a token's expiry is checked on every call; nothing refused is ever kept."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import freezegun
import pytest

import api.tokens
from api.tokens import TokenRequired, Tokens
from bootstrap import Ledger
from projections.read_models import open_store


class Clock:
    """``time.monotonic`` as ``api.tokens`` sees it, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(api.tokens, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch):
    """``lookups(tokens)``: the token ids ``tokens`` has since read from the table."""

    def spy(tokens: Tokens) -> list[str]:
        seen: list[str] = []
        active = tokens.table.active

        def counted(token_id: str):
            seen.append(token_id)
            return active(token_id)

        monkeypatch.setattr(tokens.table, "active", counted)
        return seen

    return spy


@pytest.fixture
def other_process(database_url: str) -> Iterator[Tokens]:
    """Tokens as another process sees them: its own ledger on the same database."""
    other = Ledger(database_url)
    try:
        yield Tokens(open_store(other))
    finally:
        other.close()


def admin(tokens: Tokens, **options) -> str:
    return tokens.issue(role="admin", name="ops", issued_by="tests", **options).token


def test_a_token_checked_again_within_the_cache_period_costs_no_query(ledger, clock, lookups):
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    read = lookups(tokens)
    first = tokens.check(token)
    clock.now += 4.9
    assert [tokens.check(token) for _ in range(3)] == [first] * 3
    assert read == [first.id]
    clock.now += 0.1  # the cache period is over: the table is read again
    assert tokens.check(token) == first
    assert read == [first.id, first.id]


def test_a_clock_gone_back_counts_as_stale(ledger, clock, lookups):
    """Only a test's frozen clock goes back; an entry must not then be trusted forever."""
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    read = lookups(tokens)
    tokens.check(token)
    clock.now -= 60
    tokens.check(token)
    assert len(read) == 2


def test_the_cache_is_keyed_by_the_digest_never_the_token(ledger):
    tokens = Tokens(open_store(ledger))
    token = admin(tokens)
    tokens.check(token)
    assert list(tokens._verified) == [api.tokens.digest(token)]
    secret = token.split("_", 2)[2]
    assert not any(secret in repr(entry) for entry in tokens._verified.items())


def test_a_token_revoked_through_the_same_tokens_is_refused_at_once(ledger, clock):
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    tokens.check(token)
    tokens.revoke(token.split("_")[1])
    with pytest.raises(TokenRequired, match="revoked"):
        tokens.check(token)


def test_a_token_revoked_by_another_process_is_refused_once_the_cache_period_has_passed(
    ledger, other_process, clock
):
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    tokens.check(token)
    other_process.revoke(token.split("_")[1])
    clock.now += 4.9
    assert tokens.check(token).id == token.split("_")[1]  # the documented delay
    clock.now += 0.1
    with pytest.raises(TokenRequired, match="revoked"):
        tokens.check(token)


def test_another_process_revocation_is_honoured_on_the_real_clock(ledger, other_process):
    tokens = Tokens(open_store(ledger), cache=0.2)
    token = admin(tokens)
    tokens.check(token)
    other_process.revoke(token.split("_")[1])
    time.sleep(0.25)
    with pytest.raises(TokenRequired, match="revoked"):
        tokens.check(token)


def test_an_already_revoked_token_revoked_here_again_is_forgotten_at_once(
    ledger, other_process, clock
):
    """Revoking here a token another process revoked says so, and empties the cache."""
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    tokens.check(token)
    other_process.revoke(token.split("_")[1])
    with pytest.raises(Exception, match="already revoked"):
        tokens.revoke(token.split("_")[1])
    with pytest.raises(TokenRequired, match="revoked"):
        tokens.check(token)


def test_a_lookup_under_way_when_the_token_is_revoked_here_does_not_keep_it(
    ledger, clock, monkeypatch
):
    """The check-then-act race: a check reads the row, then (another thread) the token is
    revoked here, then the check would store what it read. It must not."""
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    token_id = token.split("_")[1]
    active = tokens.table.active

    def read_then_revoked(key: str):
        found = active(key)
        monkeypatch.setattr(tokens.table, "active", active)
        tokens.revoke(token_id)
        return found

    monkeypatch.setattr(tokens.table, "active", read_then_revoked)
    tokens.check(token)  # answered while the revocation was under way
    with pytest.raises(TokenRequired, match="revoked"):
        tokens.check(token)


def test_an_expired_token_is_refused_even_while_cached(ledger, clock, lookups):
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens, valid_for=timedelta(days=1))
    read = lookups(tokens)
    tokens.check(token)
    with freezegun.freeze_time(datetime.now(UTC) + timedelta(days=1, seconds=1)):
        with pytest.raises(TokenRequired, match="expired"):
            tokens.check(token)
    assert len(read) == 1  # refused from the cache, not by a second lookup


def test_a_cache_of_zero_reads_the_table_every_time(ledger, clock, lookups):
    tokens = Tokens(open_store(ledger), cache=0)
    token = admin(tokens)
    read = lookups(tokens)
    for _ in range(3):
        tokens.check(token)
    assert len(read) == 3
    assert tokens._verified == {}


def test_a_refused_secret_is_never_kept(ledger, clock, lookups):
    tokens = Tokens(open_store(ledger), cache=5.0)
    token = admin(tokens)
    tokens.check(token)  # the right secret is kept; a wrong one for the same id is not
    read = lookups(tokens)
    wrong = f"cj_{token.split('_')[1]}_{secrets.token_urlsafe(32)}"
    unknown = f"cj_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    for refused in (wrong, unknown, wrong, unknown):
        with pytest.raises(TokenRequired, match="unknown"):
            tokens.check(refused)
    assert len(read) == 4
    assert list(tokens._verified) == [api.tokens.digest(token)]


def test_a_token_issued_elsewhere_works_at_once(ledger, other_process, clock):
    tokens = Tokens(open_store(ledger), cache=5.0)
    tokens.check(admin(tokens))  # the cache is in use
    issued = other_process.issue(role="auditor", name="new", issued_by="tests")
    assert tokens.check(issued.token) == issued.info


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest(ledger, clock, lookups, monkeypatch):
    monkeypatch.setattr(api.tokens, "CACHE_ENTRIES", 3)
    tokens = Tokens(open_store(ledger), cache=5.0)
    issued = [admin(tokens) for _ in range(4)]
    read = lookups(tokens)
    for token in issued:
        tokens.check(token)
    assert len(tokens._verified) == 3
    for token in issued[1:]:
        tokens.check(token)
    assert len(read) == 4  # the three newest were kept
    tokens.check(issued[0])
    assert len(read) == 5  # the oldest was dropped


def test_a_negative_cache_is_refused(memory_ledger):
    with pytest.raises(ValueError, match="0 or more"):
        Tokens(open_store(memory_ledger), cache=-1)


def test_the_api_checks_a_repeated_token_without_a_query(app, client, caller, clock, lookups):
    auditor = caller("auditor")
    read = lookups(app.state.service.tokens)
    for _ in range(3):
        assert client.get("/communities", headers=auditor.headers).status_code == 200
    assert read == [auditor.id]


@pytest.mark.parametrize("seconds", ["0", "2.5"])
def test_the_server_takes_its_cache_from_the_setting(memory_ledger, monkeypatch, seconds):
    from api.app import create_app

    monkeypatch.setenv("CHANJIAO_TOKEN_CACHE", seconds)
    app = create_app(memory_ledger)
    assert app.state.service.tokens.cache == float(seconds)
