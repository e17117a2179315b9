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


def signed_in(browser: Any, server: Any, token: str, width: int = 1280) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{server.url}/signin")
    page.get_by_label("访问令牌").fill(token)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server.url}/")
    return page


def test_a_secretarys_council_and_money_day(
    database_url: str, ledger: Ledger, browser: Any, tmp_path: Path
) -> None:
    """Seats held, a meeting recorded by ticking who came, a resolution whose outcome the
    page shows before it is confirmed, an agreement approved by it, a contribution, and
    the cost-sharing report downloaded."""
    journal = Journal()
    body = journal.community(ledger, "d", "苏州市域产教联合体")
    names, codes = [], []
    for person in ("张三", "李四", "王五"):
        code = journal.unit(ledger, "d")
        journal.admit(ledger, body, code, "d")
        ledger.assign_seat(body, code, representative=person, office="director",
                           effective_on="2024-03-01", principal="d")  # fmt: skip
        names.append(ledger.unit(code).name)
        codes.append(code)
    ledger.draft_agreement(
        body,
        title="共享实训基地共建协议",
        kind="training_base",
        parties=[
            {"unit_id": codes[0], "cost_share_bp": 6000, "benefit_share_bp": 5000},
            {"unit_id": codes[1], "cost_share_bp": 4000, "benefit_share_bp": 5000},
        ],
        drafted_on="2024-03-15",
        principal="d",
    )
    server = LiveServer(ledger, pages=functools.partial(pages, key_file=tmp_path / "k")).start()
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    try:
        token = server.app.state.service.tokens.issue(
            role="secretary", name="苏州秘书处", communities=[body], issued_by="test"
        ).token
        page = signed_in(browser, server, token)
        page.get_by_role("link", name="苏州市域产教联合体").click()
        page.get_by_role("link", name="理事会").click()
        page.wait_for_selector("text=理事会席位")
        form = page.locator("#meeting-form")
        form.get_by_label("会议日期").fill("2024-04-10")
        form.get_by_label(names[0]).check()
        form.get_by_label(names[1]).check()
        form.get_by_role("button", name="记录会议").click()
        page.wait_for_selector("text=已记录：记录会议")
        assert page.get_by_role("cell", name=f"{names[0]}、{names[1]}").is_visible()
        form = page.locator("#resolution-form")
        form.get_by_label("事项").select_option(label="利益分享协议")
        form.get_by_label("标题").fill("批准共享实训基地共建协议")
        form.get_by_label("赞成").fill("2")
        form.get_by_label("反对").fill("0")
        form.get_by_label("弃权").fill("0")
        before = ledger.recorder.max_notification_id()
        form.get_by_role("button", name="预览表决结果").click()
        preview = page.locator("#resolution-preview")
        preview.wait_for()
        assert "账本将判定：通过" in preview.inner_text()
        assert "出席 2/3 席" in preview.inner_text()
        assert ledger.recorder.max_notification_id() == before  # nothing yet
        page.screenshot(path=SHOTS / f"resolution-preview-{store}.png", full_page=True)
        page.get_by_role("button", name="确认并记录（通过）").dblclick()
        page.wait_for_selector("text=已记录：记录决议")
        assert ledger.recorder.max_notification_id() == before + 1  # once
        page.screenshot(path=SHOTS / f"council-{store}.png", full_page=True)
        page.get_by_role("link", name="决议登记簿").click()
        assert page.get_by_role("cell", name="2024-001").is_visible()
        page.go_back()
        page.get_by_role("link", name="← 苏州市域产教联合体").click()
        page.get_by_role("link", name="共享实训基地共建协议").click()
        form = page.locator("#approve-form")
        form.get_by_label("批准协议的决议编号").fill("2024-001")
        form.get_by_role("button", name="记录批准").click()
        page.wait_for_selector("text=已记录：批准协议")
        form = page.locator("#contribution-form")
        form.get_by_label("协议方").select_option(label=names[0])
        form.get_by_label("投入方式").select_option(label="资金")
        form.get_by_label("金额（元，可写 12.5万）").fill("12.5万")
        form.get_by_label("投入日期").fill("2024-05-01")
        form.get_by_label("说明").fill("建设资金")
        form.get_by_role("button", name="记录投入").click()
        page.wait_for_selector("text=已记录：记录投入")
        assert page.get_by_role("cell", name="125,000.00").first.is_visible()
        page.screenshot(path=SHOTS / f"agreement-{store}.png", full_page=True)
        with page.expect_download() as started:
            page.get_by_role("link", name="Excel（xlsx）").click()
        saved = tmp_path / started.value.suggested_filename
        started.value.save_as(saved)
        assert saved.name.startswith("成本分摊-") and saved.suffix == ".xlsx"
        from openpyxl import load_workbook

        rows = list(load_workbook(saved).active.iter_rows(values_only=True))
        assert [r[2] for r in rows[1:3]] == names[:2]
        page.context.close()
    finally:
        server.stop()


def test_an_auditors_day(database_url: str, ledger: Ledger, browser: Any, tmp_path: Path) -> None:
    """Members as of a past date and as known at an earlier time; verification finds an
    event altered behind the ledger's back; a forged form is refused."""
    import time
    from datetime import UTC, datetime
    from uuid import UUID

    from tests.tampering import alter_stored_event

    journal = Journal()
    body = journal.community(ledger, "a", "苏州市域产教联合体")
    early = journal.unit(ledger, "a")
    journal.admit(ledger, body, early, "a")  # from 2024-02-01
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    late = journal.unit(ledger, "a")
    ledger.admit_member(body, late, role="participant", effective_on="2024-01-15", principal="a")
    early_name, late_name = ledger.unit(early).name, ledger.unit(late).name
    server = LiveServer(ledger, pages=functools.partial(pages, key_file=tmp_path / "k")).start()
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    try:
        token = server.app.state.service.tokens.issue(
            role="auditor", name="审计", issued_by="test"
        ).token
        page = signed_in(browser, server, token)
        page.get_by_role("link", name="苏州市域产教联合体").click()
        page.get_by_label("截至日期").fill("2024-01-20")
        page.get_by_role("button", name="查询").click()
        page.wait_for_selector("text=2024-01-20 的成员名单")
        assert page.get_by_role("cell", name=late_name, exact=True).is_visible()  # backdated
        assert page.get_by_role("cell", name=early_name, exact=True).count() == 0
        page.get_by_label("截至日期").fill("2024-03-01")
        page.get_by_label("按记录时间（可选）").fill(between)
        page.get_by_role("button", name="查询").click()
        page.wait_for_selector("text=时已记录的内容")
        assert page.get_by_role("cell", name=early_name, exact=True).is_visible()
        assert page.get_by_role("cell", name=late_name, exact=True).count() == 0  # not yet
        page.screenshot(path=SHOTS / f"body-known-at-{store}.png", full_page=True)
        page.get_by_role("link", name="审计").click()
        page.get_by_role("button", name="运行校验").click()
        page.wait_for_selector("text=校验通过")
        position = alter_stored_event(database_url, UUID(body), 2, b'"2024-02-01"', b'"2024-02-02"')
        page.get_by_role("button", name="运行校验").click()
        page.wait_for_selector("text=被修改")
        assert page.get_by_role("cell", name=str(position), exact=True).is_visible()
        page.screenshot(path=SHOTS / f"audit-tampered-{store}.png", full_page=True)
        verify = page.get_by_role("button", name="运行校验")
        csrf = verify.locator("xpath=ancestor::form//input[@name='csrf']")
        csrf.evaluate("input => { input.value = 'forged'; }")  # a form from elsewhere
        verify.click()
        page.wait_for_selector("text=未执行任何操作")
        page.context.close()
    finally:
        server.stop()


def test_a_filing_is_kept_by_the_digest_the_page_computes_without_sending_the_file(
    database_url: str, ledger: Ledger, browser: Any, tmp_path: Path
) -> None:
    import hashlib

    journal = Journal()
    body = journal.community(ledger, "f", "苏州市域产教联合体")
    document = tmp_path / "2025年核心产品清单.pdf"
    document.write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 40)
    server = LiveServer(ledger, pages=functools.partial(pages, key_file=tmp_path / "k")).start()
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    try:
        token = server.app.state.service.tokens.issue(
            role="secretary", name="苏州秘书处", communities=[body], issued_by="test"
        ).token
        page = signed_in(browser, server, token)
        page.get_by_role("link", name="苏州市域产教联合体").click()
        page.get_by_role("link", name="年度报送与监测指标").click()
        form = page.locator("#filing-form")
        form.get_by_label("所属年度").fill("2025")
        form.get_by_label("报送日期").fill("2025-12-01")
        form.get_by_label("标题").fill("2025 年核心产品清单")
        form.get_by_label("文件（只计算摘要，不上传）").set_input_files(str(document))
        digest = hashlib.sha256(document.read_bytes()).hexdigest()
        page.wait_for_function(
            "d => document.getElementById('filing-sha256').value === d", arg=digest
        )
        assert form.get_by_label("大小（字节）").input_value() == str(document.stat().st_size)
        form.get_by_role("button", name="记录报送").click()
        page.wait_for_selector("text=已记录：登记报送文件")
        [filed] = ledger.community(body).filings
        assert (filed.sha256, filed.size) == (digest, document.stat().st_size)
        page.screenshot(path=SHOTS / f"annual-{store}.png", full_page=True)
        page.context.close()
    finally:
        server.stop()
