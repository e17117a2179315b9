"""The console in a real browser (Debian's Chromium, driven by Playwright): a secretary
signs in with a token, opens a body, asks for the members on an earlier date, and signs
out; another body's page is refused. Screenshots of each page, at 1280 px and at a
tablet's width, go to tests/console/screenshots/."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from bootstrap import Ledger
from console.pages import pages
from tests.api.streaming_support import Journal, LiveServer
from tests.browser import browser  # noqa: F401 - a fixture
from tests.factories import credit_code

SHOTS = Path(__file__).with_name("screenshots")


def test_a_secretarys_visit(
    database_url: str, ledger: Ledger, browser: Any, tmp_path: Path
) -> None:
    journal = Journal()
    mine = journal.community(ledger, "b", "苏州市域产教联合体")
    other = journal.community(ledger, "b", "无锡市域产教联合体")
    for _ in range(4):
        journal.admit(ledger, mine, journal.unit(ledger, "b"), "b")
    early = journal.unit(ledger, "b")
    ledger.admit_member(mine, early, role="lead", effective_on="2024-01-10", principal="b")
    early_name = ledger.unit(early).name
    newcomer = "苏州新来精密机械有限公司"
    ledger.register_unit(
        code=credit_code(900),
        name=newcomer,
        unit_type="enterprise",
        division="320506",
        principal="b",
    )
    server = LiveServer(ledger, pages=functools.partial(pages, key_file=tmp_path / "k")).start()
    SHOTS.mkdir(exist_ok=True)
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    try:
        token = server.app.state.service.tokens.issue(
            role="secretary", name="苏州秘书处", communities=[mine], issued_by="test"
        ).token
        for width, height, tag in ((1280, 900, "desktop"), (768, 1024, "tablet")):
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN"
            )
            page = context.new_page()
            page.goto(f"{server.url}/")
            assert page.url.endswith("/signin")
            page.screenshot(path=SHOTS / f"signin-{tag}-{store}.png", full_page=True)
            page.get_by_label("访问令牌").fill(token)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{server.url}/")
            assert page.get_by_role("link", name="苏州市域产教联合体").is_visible()
            assert page.get_by_text("无锡市域产教联合体").count() == 0
            page.screenshot(path=SHOTS / f"home-{tag}-{store}.png", full_page=True)
            page.get_by_role("link", name="苏州市域产教联合体").click()
            page.wait_for_selector("text=成员省份分布")
            assert page.get_by_role("cell", name="单位1", exact=True).is_visible()
            page.screenshot(path=SHOTS / f"body-{tag}-{store}.png", full_page=True)
            page.get_by_label("截至日期").fill("2024-01-20")  # before the others joined
            page.get_by_role("button", name="查询").click()
            page.wait_for_selector("text=2024-01-20 的成员名单")
            assert page.get_by_role("cell", name=early_name, exact=True).is_visible()
            assert page.get_by_role("cell", name="单位1", exact=True).count() == 0
            page.screenshot(path=SHOTS / f"body-as-of-{tag}-{store}.png", full_page=True)
            if tag == "desktop":  # record once, from the desktop
                page.goto(f"{server.url}/bodies/{mine}")
                before = ledger.recorder.max_notification_id()
                picker = page.get_by_label("单位（名称或统一社会信用代码）")
                picker.press_sequentially("新来", delay=50)  # offers units as one types
                page.locator("#units option").first.wait_for(state="attached")
                offered = page.locator("#units option").first.get_attribute("value")
                assert offered == newcomer
                picker.fill(offered)
                page.get_by_label("加入日期", exact=True).fill("2024-05-01")
                page.screenshot(path=SHOTS / f"admit-{store}.png", full_page=True)
                page.get_by_role("button", name="记录吸收").dblclick()  # a double click
                page.wait_for_selector("text=已记录：吸收成员")
                assert page.get_by_role("cell", name=newcomer, exact=True).is_visible()
                assert ledger.recorder.max_notification_id() == before + 1  # once
                picker = page.get_by_label("单位（名称或统一社会信用代码）")
                picker.fill(newcomer)
                page.get_by_label("加入日期", exact=True).fill("2024-06-01")
                page.get_by_role("button", name="记录吸收").click()
                alert = page.locator("#admit-error")
                assert alert.is_visible() and "未记录" in alert.inner_text()
                page.screenshot(path=SHOTS / f"admit-refused-{store}.png", full_page=True)
                assert ledger.recorder.max_notification_id() == before + 1
            refused = page.goto(f"{server.url}/bodies/{other}")
            assert refused is not None and refused.status == 403
            assert page.get_by_text("无权查看").is_visible()
            page.goto(f"{server.url}/")
            page.get_by_role("button", name="退出登录").click()
            page.wait_for_url(f"{server.url}/signin")
            context.close()
    finally:
        server.stop()


def test_an_auditors_home_page_shows_events_as_they_are_recorded(
    database_url: str, ledger: Ledger, browser: Any, tmp_path: Path
) -> None:
    journal = Journal()
    body = journal.community(ledger, "a", "苏州市域产教联合体")
    server = LiveServer(ledger, pages=functools.partial(pages, key_file=tmp_path / "k")).start()
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    try:
        token = server.app.state.service.tokens.issue(
            role="auditor", name="审计", issued_by="test"
        ).token
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{server.url}/signin")
        page.get_by_label("访问令牌").fill(token)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("heading", name="实时事件").is_visible()
        page.wait_for_timeout(500)  # the feed is open
        code = journal.unit(ledger, "live")
        journal.admit(ledger, body, code, "live")
        items = page.locator("#feed li")
        items.nth(1).wait_for()
        texts = items.all_inner_texts()
        assert "chanjiao.community.member_admitted.v1" in texts[0]  # newest first
        assert "chanjiao.unit.registered.v1" in texts[1]
        assert [int(i.get_attribute("data-position")) for i in items.all()] == sorted(
            journal.positions()[-2:], reverse=True
        )
        page.screenshot(path=SHOTS / f"home-live-{store}.png", full_page=True)
        context.close()
    finally:
        server.stop()
