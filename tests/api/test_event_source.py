"""A browser's own ``EventSource`` (Debian's Chromium, driven by Playwright) follows
``/events/stream?after=0`` across a server restart: it reconnects to the URL it first
opened, saying where it got to only in ``Last-Event-ID``, and receives every event
exactly once, in order (api.md: ``Last-Event-ID`` takes precedence over ``after``)."""

from __future__ import annotations

from typing import Any

from api.events import event_types
from bootstrap import Ledger
from tests.api.streaming_support import Journal, LiveServer
from tests.browser import browser  # noqa: F401 - a fixture
from tests.waiting import wait_until

FOLLOW = """([types, url]) => {
    window.seen = [];
    window.opened = 0;
    const source = new EventSource(url);
    source.onopen = () => { window.opened += 1; };
    for (const type of types) {
        source.addEventListener(type, (e) => window.seen.push(Number(e.lastEventId)));
    }
    window.source = source;
}"""


def test_an_event_source_reconnecting_to_after_0_gets_each_event_once(
    database_url: str, ledger: Ledger, browser: Any
) -> None:
    journal = Journal()
    community = journal.community(ledger, "es")
    for _ in range(4):
        journal.admit(ledger, community, journal.unit(ledger, "es"), "es")
    first = LiveServer(ledger, heartbeat=0.5).start()
    token = first.token()
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
    page = context.new_page()
    try:
        page.goto(f"{first.url}/healthz")  # the server's own origin: no CORS needed
        page.evaluate(FOLLOW, [event_types(), "/events/stream?after=0"])
        wait_until(lambda: len(page.evaluate("window.seen")) == len(journal.entries))
        first.stop()  # the browser sees the connection end, and will reconnect
        for _ in range(3):  # recorded while it is away
            journal.unit(ledger, "es-away")
        second = LiveServer(ledger, heartbeat=0.5, port=first.port).start()
        try:
            wait_until(
                lambda: len(page.evaluate("window.seen")) >= len(journal.entries),
                what="the events recorded while away",
            )
            journal.unit(ledger, "es-live")
            wait_until(lambda: len(page.evaluate("window.seen")) >= len(journal.entries))
            page.wait_for_timeout(1000)  # anything more would be a replay
            seen = page.evaluate("window.seen")
            assert page.evaluate("window.opened") >= 2, "it never reconnected"
        finally:
            page.evaluate("window.source.close()")
            second.stop()
    finally:
        context.close()
    assert seen == journal.positions()  # once each, in order, across the reconnection
