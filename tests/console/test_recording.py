"""The console's recording forms beyond a body's members: founding a body, registering a
unit, the council's seats, meetings, charter and resolutions (previewed before they are
recorded), and an agreement from its draft to its entries and their reversal. Each form
runs the API's command; a refusal shows the ledger's words and records nothing."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from uuid import UUID

from bootstrap import Ledger
from projections import cost_sharing
from tests.console.test_pages import World, form_of, head, sign_in
from tests.console.test_pages import world as world
from tests.factories import credit_code


def post(world: World, path: str, page: str, action: str, **fields: object) -> object:
    """Send ``action``'s form as shown on ``page`` (its CSRF and idempotency key)."""
    sent = {**form_of(page, action), **fields}
    return world.client.post(path, data=sent, follow_redirects=False)


def test_an_admin_founds_a_body_and_a_secretary_may_not(world: World, ledger: Ledger) -> None:
    client = sign_in(world, "admin")
    home = client.get("/").text
    assert "成立共同体" in home
    r = post(
        world,
        "/bodies",
        home,
        "found",
        name="常州市域产教联合体",
        kind="city",
        industry="新能源",
        division="320400",
        founded_on="2024-03-01",
    )
    assert r.status_code == 303 and r.headers["location"] == "/?done=found"
    assert "常州市域产教联合体" in client.get("/?done=found").text
    bad = post(world, "/bodies", home, "found", name="", kind="city", industry="x")
    assert bad.status_code == 422 and 'id="found-error"' in bad.text
    secretary = sign_in(world, "secretary")
    assert "成立共同体" not in secretary.get("/").text
    before = head(ledger)
    refused = secretary.post("/bodies", data={"csrf": "x", "name": "无"})
    assert refused.status_code == 403 and head(ledger) == before


def test_a_secretary_registers_a_unit_then_admits_it(world: World, ledger: Ledger) -> None:
    client = sign_in(world, "secretary")
    page = client.get(f"/bodies/{world.mine}").text
    code = credit_code(901)
    fields = {"name": "苏州智造职业技术学院", "code": code, "type": "vocational_school"}
    fields |= {"level": "higher", "division": "320506"}
    r = post(world, f"/bodies/{world.mine}/register", page, "register", **fields)
    assert r.status_code == 303
    assert ledger.unit(code).name == "苏州智造职业技术学院"
    again = post(world, f"/bodies/{world.mine}/register", page, "register", **fields)
    assert again.status_code == 303  # the same form sent twice: recorded once
    wrong = {**fields, "code": "123", "name": "另一所学校"}
    page = client.get(f"/bodies/{world.mine}").text
    refused = post(world, f"/bodies/{world.mine}/register", page, "register", **wrong)
    assert refused.status_code == 422 and 'id="register-error"' in refused.text
    assert 'value="另一所学校"' in refused.text  # kept for the secretary to correct
    admitted = post(
        world,
        f"/bodies/{world.mine}/admit",
        page,
        "admit",
        unit_id="苏州智造职业技术学院",
        role="participant",
        effective_on="2024-06-01",
    )
    assert admitted.status_code == 303
    assert "苏州智造职业技术学院" in client.get(f"/bodies/{world.mine}").text
    elsewhere = post(world, f"/bodies/{world.other}/register", page, "register", **wrong)
    assert elsewhere.status_code == 403  # not from another body's page


def test_a_council_day_seats_a_meeting_and_a_resolution_previewed_before_it_is_recorded(
    world: World, ledger: Ledger
) -> None:
    client = sign_in(world, "secretary")
    council = f"/bodies/{world.mine}/council"
    for name, person in (("单位1", "张三"), ("单位2", "李四"), ("单位3", "王五")):
        page = client.get(council).text
        r = post(
            world,
            f"{council[:-8]}/seat",
            page,
            "seat",
            unit_id=name,
            representative=person,
            office="director",
            effective_on="2024-03-01",
        )
        assert r.status_code == 303 and r.headers["location"] == f"{council}?done=seat"
    page = client.get(council).text
    assert "张三" in page and "王五" in page
    seated = [str(s.unit_id) for s in ledger.council(ledger.community(world.mine)).seats]
    meeting = {"held_on": "2024-04-10", "present": seated[:2]}  # two of three present
    r = post(world, f"/bodies/{world.mine}/meeting", page, "meeting", **meeting)
    assert r.status_code == 303
    page = client.get(council).text
    assert "第 1 次 · 2024-04-10（出席 2/3）" in page
    motion = {"meeting_id": "1", "matter": "charter", "title": "章程（第 1.0 版）"}
    motion |= {"votes_for": "2", "votes_against": "0", "abstain": "0"}
    before = head(ledger)
    shown = post(
        world, f"/bodies/{world.mine}/resolution", page, "resolution", **motion, preview="1"
    )
    assert shown.status_code == 200 and head(ledger) == before  # nothing recorded yet
    preview = shown.text.split('id="resolution-preview"', 1)[1].split("</div>", 1)[0]
    assert "账本将判定：通过" in preview and "adopted: 2 in favour, 2 needed" in preview
    assert "出席 2/3 席" in preview
    confirm = shown.text.split('id="resolution-confirm"', 1)[1].split("</form>", 1)[0]
    hidden = {
        part.split('name="', 1)[1].split('"', 1)[0]: part.split('value="', 1)[1].split('"')[0]
        for part in confirm.split("<input")[1:]
    }
    assert "preview" not in hidden and hidden["title"] == "章程（第 1.0 版）"
    for _ in range(2):  # a double click on the confirmation
        done = client.post(f"/bodies/{world.mine}/resolution", data=hidden, follow_redirects=False)
        assert done.status_code == 303
    assert head(ledger) == before + 1
    register = client.get(f"/bodies/{world.mine}/resolutions").text
    assert "2024-001" in register and "章程（第 1.0 版）" in register
    short = {**motion, "meeting_id": "1", "matter": "charter", "votes_for": "1", "abstain": "1"}
    page = client.get(council).text
    shown = post(
        world, f"/bodies/{world.mine}/resolution", page, "resolution", **short, preview="1"
    )
    assert "账本将判定：未通过" in shown.text
    wrong = {**motion, "recused": [seated[2]]}  # not present at the meeting
    refused = post(
        world, f"/bodies/{world.mine}/resolution", page, "resolution", **wrong, preview="1"
    )
    assert refused.status_code == 422 and "recused seats must have been present" in refused.text
    charter = {"version": "1.0", "resolution": "2024-001", "quorum": "2/3"}
    r = post(
        world,
        f"/bodies/{world.mine}/charter",
        page,
        "charter",
        **charter,
        admission_requires_resolution="yes",
    )
    assert r.status_code == 303
    rules = ledger.community(world.mine).rules_on(ledger.council(world.mine).meeting(1).held_on)
    assert rules.admission_requires_resolution
    page = client.get(council).text
    assert "第 1.0 版，自 2024-04-10 起施行（决议 2024-001）" in page
    r = post(
        world,
        f"/bodies/{world.mine}/vacate",
        page,
        "vacate",
        unit_id="单位3",
        effective_on="2024-12-31",
    )
    assert r.status_code == 303
    assert "王五" not in client.get(council, params={"as_of": "2025-01-01"}).text


def test_an_agreement_from_draft_to_reversal_and_its_report(world: World, ledger: Ledger) -> None:
    client = sign_in(world, "secretary")
    body = f"/bodies/{world.mine}"
    page = client.get(body).text
    parties = {"party_unit": ["单位1", "单位2"], "party_cost": ["60", "40"]}
    bad = {**parties, "party_benefit": ["50", "40"]}  # 90 %
    draft = {"title": "共享实训基地共建协议", "kind": "training_base", "drafted_on": "2024-03-15"}
    before = head(ledger)
    refused = post(world, f"{body}/draft", page, "draft", **draft, **bad)
    assert refused.status_code == 422 and 'id="draft-error"' in refused.text
    assert "must add up to exactly 10000" in refused.text and head(ledger) == before
    assert refused.text.count('value="60"') == 1  # the rows kept as typed
    r = post(world, f"{body}/draft", page, "draft", **draft, **parties, party_benefit=["50", "50"])
    assert r.status_code == 303
    [made] = cost_sharing.agreements(ledger, world.mine).agreements
    agreement = f"{body}/agreements/{made.id}"
    page = client.get(agreement).text
    assert "草案" in page and "记录批准" in page and "记录投入" not in page
    seats_and_a_resolution(world, ledger)
    page = client.get(agreement).text
    r = post(world, f"{agreement}/approve", page, "approve", resolution="2024-001")
    assert r.status_code == 303, r.text.split('role="alert">')[-1][:300]
    assert r.headers["location"] == f"{agreement}?done=approve"
    page = client.get(agreement).text
    one = str(ledger.unit_id("单位1"))
    entries = [
        (
            "contribution",
            {
                "unit_id": one,
                "kind": "funds",
                "amount": "12.5万",
                "contributed_on": "2024-05-01",
                "description": "建设资金",
            },
        ),
        ("cost", {"amount": "100,000", "incurred_on": "2024-05-02", "description": "设备采购"}),
        ("benefit", {"amount": "2000", "realized_on": "2024-06-01", "description": "培训收入"}),
        ("cost", {"amount": "999", "incurred_on": "2024-05-03", "description": "录错的一笔"}),
        (
            "funding",
            {
                "funder": "苏州市财政局",
                "funder_kind": "government_fund",
                "kind": "funds",
                "amount": "3万",
                "received_on": "2024-07-01",
                "description": "产教融合专项资金",
            },
        ),
    ]
    for action, fields in entries:
        page = client.get(agreement).text
        r = post(world, f"{agreement}/{action}", page, action, **fields)
        assert r.status_code == 303, r.text
    page = client.get(agreement).text
    r = post(world, f"{agreement}/reverse", page, "reverse", entry="4", reason="金额录错")
    assert r.status_code == 303
    page = client.get(agreement, params={"as_of": "2024-12-31"}).text
    assert "已冲销：金额录错" in page
    report = cost_sharing.report(ledger, str(made.id), "2024-12-31")
    assert report.total_costs == "100000.00" and report.total_contributed == "125000.00"
    assert report.outside_funding == "30000.00"  # in no party's figures
    assert "苏州市财政局" in page and "外部投入" in page
    assert "125,000.00" in page and "60,000.00" in page  # 单位1 bears 60 % of the cost
    csv = client.get(
        f"{body}/download/report", params={"agreement": str(made.id), "as_of": "2024-12-31"}
    )
    assert csv.status_code == 200 and "125000.00" in csv.text and "60000.00" in csv.text
    assert "download/report?as_of=2024-12-31&amp;agreement=" in page
    invested = client.get(body, params={"as_of": "2024-12-31"}).text
    section = invested.split("<h2>多元投入</h2>", 1)[1].split("</section>", 1)[0]
    assert "投入合计 155,000.00 元：成员单位投入 125,000.00 元" in section
    assert "政府专项资金等）投入 30,000.00 元" in section and 'aria-label="按出资方"' in section
    assert "155,000.00 元（100%）" in section  # all of it funds
    assert "30,000.00 元（19.35%）" in section  # the special fund, of everything invested
    wrong = post(
        world,
        f"{agreement}/cost",
        page,
        "cost",
        amount="-5",
        incurred_on="2024-05-02",
        description="x",
    )
    assert wrong.status_code == 422 and 'id="cost-error"' in wrong.text
    elsewhere = client.post(f"/bodies/{world.other}/agreements/{made.id}/cost", data={})
    assert elsewhere.status_code == 403
    mine_path_other_body = f"/bodies/{world.mine}/agreements/{UUID(int=7)}/cost"
    assert client.post(mine_path_other_body, data=form_of(page, "cost")).status_code == 404


def seats_and_a_resolution(world: World, ledger: Ledger) -> None:
    """Three seats from 2024-03-01 and an adopted agreement resolution, 2024-001."""
    for code in ("单位1", "单位2", "单位3"):
        ledger.assign_seat(
            world.mine,
            code,
            representative="代表",
            office="director",
            effective_on="2024-03-01",
            principal="t",
        )
    meeting = ledger.record_meeting(
        world.mine, held_on="2024-04-01", present=["单位1", "单位2", "单位3"], principal="t"
    )
    ledger.record_resolution(
        world.mine,
        meeting=meeting,
        matter="agreement",
        title="批准协议",
        votes_for=3,
        votes_against=0,
        abstentions=0,
        principal="t",
    )


def test_the_register_as_known_at_an_earlier_time(world: World, ledger: Ledger) -> None:
    seats_and_a_resolution(world, ledger)
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    ledger.record_resolution(
        world.mine,
        meeting=1,
        matter="ordinary",
        title="后来补记的决议",
        votes_for=3,
        votes_against=0,
        abstentions=0,
        principal="t",
    )
    client = sign_in(world, "auditor")
    path = f"/bodies/{world.mine}/resolutions"
    now = client.get(path).text
    assert "批准协议" in now and "后来补记的决议" in now
    then = client.get(path, params={"known_at": between})
    assert then.status_code == 200 and "批准协议" in then.text
    assert "后来补记的决议" not in then.text and "仅含" in then.text
    bad = client.get(path, params={"known_at": "昨天"})
    assert bad.status_code == 422 and 'id="form-error"' in bad.text


def test_the_pages_tables_download_as_csv_and_xlsx_as_the_command_line_writes_them(
    world: World, ledger: Ledger
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from projections import membership_model
    from projections.tables import csv_bytes

    client = sign_in(world, "secretary")
    page = client.get(f"/bodies/{world.mine}", params={"as_of": "2024-01-20"}).text
    found = re.search(r'href="(/bodies/[^"]+/download/members\?[^"]+format=csv)"', page)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    assert "/download/members?as_of=2024-01-20&format=csv" in link
    got = client.get(link)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in got.headers["content-disposition"]
    store = world.client.app.state.service.store  # type: ignore[attr-defined]
    expected = membership_model.members(store, world.mine, "2024-01-20", None)
    assert got.content == csv_bytes(expected)  # what `--format csv` writes
    assert got.content.startswith("\ufeff".encode()) and world.late.encode() in got.content
    book = client.get(f"/bodies/{world.mine}/download/members", params={"format": "xlsx"})
    sheet = load_workbook(BytesIO(book.content)).active
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["单位1", "单位2", "单位3", world.late])
    seats_and_a_resolution(world, ledger)
    for what in ("provinces", "investment", "resolutions", "seats", "meetings"):
        r = client.get(f"/bodies/{world.mine}/download/{what}", params={"format": "xlsx"})
        assert r.status_code == 200, what
    assert "2024-001" in client.get(f"/bodies/{world.mine}/download/resolutions").text
    assert client.get(f"/bodies/{world.mine}/download/nothing").status_code == 404
    assert client.get(f"/bodies/{world.mine}/download/members?format=pdf").status_code == 404
    assert client.get(f"/bodies/{world.other}/download/members").status_code == 403
    bad = client.get(f"/bodies/{world.mine}/download/members", params={"as_of": "2024-02-30"})
    assert bad.status_code == 422


def test_a_bodys_year_filings_obligations_and_indicators(world: World, ledger: Ledger) -> None:
    import hashlib

    client = sign_in(world, "secretary")
    year = f"/bodies/{world.mine}/annual"
    page = client.get(year, params={"year": "2025", "as_of": "2025-12-20"})
    assert page.status_code == 200 and "核心产品清单" in page.text and "未提交" in page.text
    assert 'id="filing-year" name="year" type="number" required min="0" step="1"' in page.text
    assert page.text.count('value="2025" aria-describedby') == 2  # the forms' year: the page's
    assert f'href="{year}"' in client.get(f"/bodies/{world.mine}").text
    digest = hashlib.sha256(b"list").hexdigest()
    filing = {
        "kind": "product_list",
        "year": "2025",
        "filed_on": "2025-12-01",
        "title": "2025 年核心产品清单",
        "sha256": digest,
        "size": "4",
    }
    r = post(world, f"/bodies/{world.mine}/filing", page.text, "filing", **filing)
    assert r.status_code == 303 and r.headers["location"] == f"{year}?year=2025&done=filing"
    shown = client.get(year, params={"year": "2025", "as_of": "2025-12-20"}).text
    assert "按时提交" in shown and digest[:16] in shown
    before = head(ledger)
    bad = post(world, f"/bodies/{world.mine}/filing", shown, "filing", **{**filing, "sha256": "x"})
    assert bad.status_code == 422 and 'id="filing-error"' in bad.text and head(ledger) == before
    figure = {
        "indicator": "students_order_classes",
        "year": "2025",
        "value": "30",
        "unit_id": "单位1",
        "evidence_sha256": digest,
    }
    r = post(world, f"/bodies/{world.mine}/indicator", shown, "indicator", **figure)
    assert r.status_code == 303
    shown = client.get(year, params={"year": "2025"}).text
    assert "订单培养学生数" in shown and "单位1" in shown
    ledger.qualify_unit(
        "单位1", qualification="上市公司", since="2020-01-01", source="上交所", principal="x"
    )
    held = client.get(year, params={"year": "2025", "as_of": "2025-12-20"}).text
    section = held.split("<h2>成员资质（优质多元）</h2>", 1)[1].split("</section>", 1)[0]
    assert "截至 2025-12-20" in section and "中 1 家持有至少一项资质" in section
    assert '<tr><td>上市公司</td><td class="num">1</td></tr>' in section
    listed = client.get(
        f"/bodies/{world.mine}/download/quality", params={"as_of": "2025-12-20"}
    ).text
    assert "qualification,listed_company,上市公司,1," in listed
    csv = client.get(f"/bodies/{world.mine}/download/obligations", params={"year": "2025"})
    assert csv.status_code == 200 and "product_list" in csv.text
    auditor = sign_in(world, "auditor")
    view = auditor.get(year, params={"year": "2025"})
    assert view.status_code == 200 and "登记报送文件" not in view.text
    assert sign_in(world, "secretary").get(f"/bodies/{world.other}/annual").status_code == 403


def test_an_admin_records_a_members_qualification_on_the_years_page(
    world: World, ledger: Ledger
) -> None:
    year = f"/bodies/{world.mine}/annual"
    secretary = sign_in(world, "secretary").get(year, params={"year": "2025"}).text
    assert 'id="qualify-form"' not in secretary  # it holds in every body: admins only
    refused = post(
        world,
        f"/bodies/{world.mine}/qualify",
        secretary,
        "indicator",
        unit_id="单位1",
        qualification="listed_company",
        since="2020-01-01",
        source="x",
    )
    assert refused.status_code == 403
    client = sign_in(world, "admin")
    page = client.get(year, params={"year": "2025"}).text
    assert "上市公司" in page.split('id="qualify-form">', 1)[1]
    before = head(ledger)
    wrong = post(  # 双高 is for vocational schools: refused in the ledger's words
        world,
        f"/bodies/{world.mine}/qualify",
        page,
        "qualify",
        unit_id="单位1",
        qualification="double_high",
        since="2020-01-01",
        source="教职成函〔2019〕14号",
    )
    assert wrong.status_code == 409 and "双高计划学校 is held only by" in wrong.text
    assert head(ledger) == before and 'value="教职成函〔2019〕14号"' in wrong.text
    done = post(
        world,
        f"/bodies/{world.mine}/qualify",
        page,
        "qualify",
        unit_id="单位1",
        qualification="上市公司",
        since="2020年1月1日",
        source="上交所公告",
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=qualify")
    [held] = ledger.unit("单位1").qualifications
    assert (held.since, held.source, held.sha256) == (date(2020, 1, 1), "上交所公告", None)
    shown = client.get(year, params={"year": "2025", "as_of": "2025-06-30"}).text
    assert '<tr><td>上市公司</td><td class="num">1</td></tr>' in shown
    ended = post(
        world,
        f"/bodies/{world.mine}/unqualify",
        shown,
        "unqualify",
        unit_id="单位1",
        qualification="上市公司",
        ended_on="2025-07-01",
        reason="退市",
    )
    assert ended.status_code == 303 and ended.headers["location"].endswith("done=unqualify")
    [held] = ledger.unit("单位1").qualifications
    assert (held.last_day(), held.ending.reason) == (date(2025, 6, 30), "退市")
    after = client.get(year, params={"year": "2025", "as_of": "2025-07-01"}).text
    assert '<tr><td>上市公司</td><td class="num">0</td></tr>' in after
    again = post(
        world,
        f"/bodies/{world.mine}/unqualify",
        after,
        "unqualify",
        unit_id="单位1",
        qualification="上市公司",
        ended_on="2025-07-01",
        reason="退市",
    )
    assert again.status_code == 409 and "already" in again.text
