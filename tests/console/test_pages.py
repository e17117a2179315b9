"""The console's pages (ADR 0032) for every role: sign-in and its cookie, who sees which
body, members as of a date and as known at a time, CSRF, and sessions that end when
their token does."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from bootstrap import Ledger
from console.pages import pages
from console.session import COOKIE
from domain.values import group_yuan
from projections import cost_sharing
from tests.api.streaming_support import Journal
from tests.factories import credit_code


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]  # role → token
    ids: dict[str, str]  # token ids
    mine: str  # the secretary's body
    other: str
    late: str  # a unit admitted to ``mine`` backdated, recorded after ``before_late``
    before_late: str
    journal: Journal


@pytest.fixture
def world(ledger: Ledger, tmp_path: Path) -> Iterator[World]:
    journal = Journal()
    mine = journal.community(ledger, "w", "苏州市域产教联合体")
    other = journal.community(ledger, "w", "无锡市域产教联合体")
    for _ in range(3):
        journal.admit(ledger, mine, journal.unit(ledger, "w"), "w")
    journal.admit(ledger, other, journal.unit(ledger, "w"), "w")
    time.sleep(0.01)
    before_late = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    late = journal.unit(ledger, "w")
    ledger.admit_member(mine, late, role="participant", effective_on="2024-01-15", principal="w")
    app = create_app(ledger, pages=functools.partial(pages, key_file=tmp_path / "session.key"))
    tokens, ids = {}, {}
    for role in ("admin", "secretary", "auditor", "integrator"):
        issued = app.state.service.tokens.issue(
            role=role,
            name=f"{role}-user",
            communities=[mine] if role == "secretary" else [],
            issued_by="test",
        )
        tokens[role], ids[role] = issued.token, issued.info.id
    with TestClient(app, base_url="http://127.0.0.1") as client:
        late_name = ledger.unit(late).name
        yield World(client, tokens, ids, mine, other, late_name, before_late, journal)


def sign_in(w: World, role: str) -> TestClient:
    w.client.cookies.clear()
    r = w.client.post("/signin", data={"token": w.tokens[role]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    return w.client


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_signed_out_every_page_sends_to_sign_in(world: World) -> None:
    for path in ("/", f"/bodies/{world.mine}"):
        r = world.client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/signin")
    page = world.client.get("/signin")
    assert (
        page.status_code == 200 and "访问令牌" in page.text and '<label for="token">' in page.text
    )


def test_sign_in_sets_a_strict_httponly_cookie_that_holds_no_token(world: World) -> None:
    r = world.client.post(
        "/signin", data={"token": world.tokens["secretary"]}, follow_redirects=False
    )
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert world.tokens["secretary"] not in cookie
    assert "Secure" not in cookie  # plain http here; https makes it Secure


def test_a_bad_token_is_refused_in_chinese_and_sets_nothing(world: World) -> None:
    r = world.client.post("/signin", data={"token": "cj_nope_nope"}, follow_redirects=False)
    assert r.status_code == 401 and "令牌无效" in r.text
    assert "set-cookie" not in r.headers


def test_a_secretary_sees_and_reads_only_its_own_bodies(world: World) -> None:
    client = sign_in(world, "secretary")
    home = client.get("/")
    assert "苏州市域产教联合体" in home.text and "无锡市域产教联合体" not in home.text
    body = client.get(f"/bodies/{world.mine}", params={"as_of": "2024-06-30"})
    assert body.status_code == 200 and "单位1" in body.text and "成员省份分布" in body.text
    refused = client.get(f"/bodies/{world.other}")
    assert refused.status_code == 403 and "无权查看" in refused.text


def test_an_auditor_reads_every_body_as_of_a_date_and_as_known_at_a_time(world: World) -> None:
    client = sign_in(world, "auditor")
    home = client.get("/")
    assert "苏州市域产教联合体" in home.text and "无锡市域产教联合体" in home.text
    now = client.get(f"/bodies/{world.mine}", params={"as_of": "2024-06-30"})
    assert world.late in now.text
    before_admissions = client.get(f"/bodies/{world.mine}", params={"as_of": "2024-01-20"})
    assert world.late in before_admissions.text  # backdated to 2024-01-15
    assert "单位1" not in before_admissions.text  # admitted 2024-02-01
    known = client.get(
        f"/bodies/{world.mine}", params={"as_of": "2024-06-30", "known_at": world.before_late}
    )
    assert known.status_code == 200 and world.late not in known.text and "单位1" in known.text


def test_a_bad_date_is_shown_next_to_the_form_and_nothing_else(world: World) -> None:
    client = sign_in(world, "admin")
    r = client.get(f"/bodies/{world.mine}", params={"as_of": "2024-13-45"})
    assert r.status_code == 422 and 'role="alert"' in r.text and "2024-13-45" in r.text
    assert "<h2>成员</h2>" not in r.text


def test_an_integrator_is_sent_to_the_api_documents(world: World) -> None:
    r = world.client.post("/signin", data={"token": world.tokens["integrator"]})
    assert r.status_code == 200 and "/openapi.json" in r.text and "/asyncapi.json" in r.text
    assert COOKIE not in world.client.cookies


def test_sign_out_needs_the_forms_csrf_token(world: World) -> None:
    client = sign_in(world, "secretary")
    home = client.get("/")
    refused = client.post("/signout", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "未执行任何操作" in refused.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    out = client.post("/signout", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_revoked_token_or_a_forged_cookie_ends_the_session(world: World) -> None:
    client = sign_in(world, "auditor")
    assert client.get("/", follow_redirects=False).status_code == 200
    cookie = client.cookies[COOKIE]
    body, signature = cookie.rsplit(".", 1)
    client.cookies.clear()
    client.cookies.set(COOKIE, body + "." + signature[::-1])
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)
    assert client.get("/", follow_redirects=False).status_code == 200
    world.client.app.state.service.tokens.revoke(world.ids["auditor"])  # type: ignore[attr-defined]
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role", ["admin", "secretary", "auditor"])
def test_every_page_renders_for_every_role(world: World, role: str) -> None:
    client = sign_in(world, role)
    pages_ = ["/", f"/bodies/{world.mine}", f"/bodies/{world.mine}/resolutions", "/signin"]
    pages_ += [f"/bodies/{world.mine}/council", f"/bodies/{world.mine}/annual"]
    pages_ += ["/static/console.css"]
    auditing = ["/audit", f"/history/{world.mine}"] if role != "secretary" else []
    for path in pages_ + auditing:
        r = client.get(path)
        assert r.status_code == 200, (role, path)
    for path in ("/", f"/bodies/{world.mine}"):
        r = client.get(path)
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert '<html lang="zh-CN">' in r.text
    missing = client.get("/bodies/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == (403 if role == "secretary" else 404)


# --- recording --------------------------------------------------------------------------


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's ``action`` form: its CSRF and idempotency key."""
    part = html.split(f'id="{action}-form">', 1)[1]
    return {
        "csrf": part.split('name="csrf" value="', 1)[1].split('"', 1)[0],
        "idempotency_key": part.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0],
    }


def head(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def test_a_secretary_admits_a_unit_by_name_once_however_often_the_form_is_sent(
    world: World, ledger: Ledger
) -> None:
    client = sign_in(world, "secretary")
    name = "苏州新来精密机械有限公司"  # not yet a member of anything
    ledger.register_unit(
        code=credit_code(900), name=name, unit_type="enterprise", division="320506", principal="x"
    )
    page = client.get(f"/bodies/{world.mine}")
    assert "吸收成员" in page.text and 'list="units"' in page.text
    fields = {**form_of(page.text, "admit"), "unit_id": name, "role": "牵头单位"}
    fields["effective_on"] = "2024年5月1日"  # as people write dates
    before = head(ledger)
    sent = [
        client.post(f"/bodies/{world.mine}/admit", data=fields, follow_redirects=False)
        for _ in range(3)
    ]
    assert all(r.status_code == 303 for r in sent)
    assert head(ledger) == before + 1  # recorded once
    done = client.get(sent[0].headers["location"])
    assert "已记录：吸收成员" in done.text and name in done.text


def test_a_refused_command_shows_the_ledgers_words_next_to_its_form_and_records_nothing(
    world: World, ledger: Ledger
) -> None:
    client = sign_in(world, "secretary")
    page = client.get(f"/bodies/{world.mine}")
    fields = {**form_of(page.text, "admit"), "unit_id": "单位1", "effective_on": "2024-05-01"}
    before = head(ledger)
    again = client.post(f"/bodies/{world.mine}/admit", data=fields)
    assert again.status_code == 409 and 'id="admit-error"' in again.text
    assert "（未记录）" in again.text and 'value="单位1"' in again.text
    bad_date = {**form_of(page.text, "exit"), "unit_id": "单位1", "effective_on": "2024-02-30"}
    refused = client.post(f"/bodies/{world.mine}/exit", data={**bad_date, "reason": "主动退出"})
    assert refused.status_code == 422 and 'id="exit-error"' in refused.text
    nobody = {**form_of(page.text, "role"), "unit_id": "没有这个单位", "role": "牵头单位"}
    missing = client.post(
        f"/bodies/{world.mine}/role", data={**nobody, "effective_on": "2024-05-01"}
    )
    assert missing.status_code == 404 and 'id="role-error"' in missing.text
    assert head(ledger) == before


def test_recording_needs_the_forms_csrf_and_a_token_that_records_for_the_body(
    world: World, ledger: Ledger
) -> None:
    before = head(ledger)
    client = sign_in(world, "secretary")
    page = client.get(f"/bodies/{world.mine}")
    fields = {**form_of(page.text, "exit"), "unit_id": "单位1", "effective_on": "2024-05-01"}
    fields["reason"] = "voluntary"
    forged = client.post(f"/bodies/{world.mine}/exit", data={**fields, "csrf": "x"})
    assert forged.status_code == 403 and "未执行任何操作" in forged.text
    elsewhere = client.post(f"/bodies/{world.other}/exit", data=fields)
    assert elsewhere.status_code == 403
    auditor = sign_in(world, "auditor")
    view = auditor.get(f"/bodies/{world.mine}")
    assert "吸收成员" not in view.text  # an auditor reads; no forms
    refused = auditor.post(
        f"/bodies/{world.mine}/exit", data={**fields, "csrf": csrf_of(view.text)}
    )
    assert refused.status_code == 403 and "不能为这个共同体记录" in refused.text
    assert head(ledger) == before


def test_search_offers_units_by_part_of_a_name_or_a_code_prefix(world: World) -> None:
    client = sign_in(world, "secretary")
    found = client.get("/search/units", params={"q": "单位"}).json()
    assert len(found) >= 4 and all("单位" in u["name"] for u in found)
    code = found[0]["code"]
    assert client.get("/search/units", params={"q": code[:12]}).json()
    assert client.get("/search/units", params={"q": ""}).json() == []


def test_the_consoles_paths_leave_every_api_path_alone() -> None:
    """The console lives under / beside the API (api.md): none of its paths is one the
    API answers (``/units/search`` would have been ``GET /units/{id}``)."""
    import re

    from api.resources import ENDPOINTS

    api = [re.compile("^" + re.sub(r"{\\w+}", "[^/]+", e.path) + "$") for e in ENDPOINTS]
    api += [re.compile(f"^{p}") for p in ("/events", "/openapi.json", "/asyncapi.json", "/healthz")]
    for path in (
        "/",
        "/signin",
        "/signout",
        "/bodies/1",
        "/bodies/1/admit",
        "/search/units",
        "/static/console.css",
        "/audit",
        "/audit/bundle",
        "/feed",
        "/history/1",
        "/bodies/1/agreements/2",
        "/bodies/1/resolutions",
        "/bodies/1/council",
    ):
        assert not [p.pattern for p in api if p.match(path)], path


def test_an_auditor_verifies_and_sees_an_event_altered_behind_the_ledgers_back(
    world: World, ledger: Ledger, database_url: str
) -> None:
    from uuid import UUID

    from tests.tampering import alter_stored_event

    client = sign_in(world, "auditor")
    page = client.get("/audit")
    assert page.status_code == 200 and "运行校验" in page.text and 'href="/audit"' in page.text
    clean = client.post("/audit", data={"csrf": csrf_of(page.text)})
    assert "校验通过" in clean.text
    position = alter_stored_event(
        database_url, UUID(world.mine), 2, b'"2024-02-01"', b'"2024-02-02"'
    )
    found = client.post("/audit", data={"csrf": csrf_of(page.text)})
    assert "被修改" in found.text and f'<td class="num">{position}</td>' in found.text
    assert client.post("/audit", data={"csrf": "forged"}).status_code == 403
    secretary = sign_in(world, "secretary")
    refused = secretary.get("/audit")
    assert refused.status_code == 403 and "审计人员" in refused.text
    assert 'href="/audit"' not in secretary.get("/").text


def test_the_live_feed_is_for_auditors_and_admins(world: World) -> None:
    secretary = sign_in(world, "secretary")
    assert "实时事件" not in secretary.get("/").text
    refused = secretary.get("/feed")
    assert refused.status_code == 403 and "实时事件" in refused.text
    auditor = sign_in(world, "auditor")
    assert 'id="feed"' in auditor.get("/").text


def test_the_resolution_register_shows_each_outcome_and_its_reason(
    world: World, ledger: Ledger
) -> None:
    body = world.journal.lifecycle(ledger, "r")  # meetings and resolutions among the rest
    kept = ledger.council(ledger.community(body)).resolutions
    assert kept
    client = sign_in(world, "admin")
    page = client.get(f"/bodies/{body}/resolutions")
    assert page.status_code == 200 and "决议登记簿" in page.text
    assert page.text.count("<tr>") == len(kept) + 1  # a row each, and the heading
    assert "通过" in page.text
    assert 'href="/bodies/' in client.get(f"/bodies/{world.mine}").text
    secretary = sign_in(world, "secretary")
    assert secretary.get(f"/bodies/{world.mine}/resolutions").text.count("尚无决议") == 1
    assert secretary.get(f"/bodies/{body}/resolutions").status_code == 403


def test_an_agreements_cost_sharing_report_with_its_chart(world: World, ledger: Ledger) -> None:
    body = world.journal.lifecycle(ledger, "c")  # an agreement with costs and contributions
    client = sign_in(world, "admin")
    page = client.get(f"/bodies/{body}", params={"as_of": "2025-12-31"})
    link = page.text.split(f'href="/bodies/{body}/agreements/', 1)[1].split('"', 1)[0]
    agreement = link.split("?", 1)[0]
    shown = client.get(f"/bodies/{body}/agreements/{link.replace('&amp;', '&')}")
    assert shown.status_code == 200 and "成本分摊" in shown.text and "合计" in shown.text
    api = cost_sharing.report(ledger, agreement, "2025-12-31")  # folded from the events
    for party in api.parties:
        assert party.name in shown.text
        assert group_yuan(party.cost_due) in shown.text
    if any(p.cost_due != "0.00" for p in api.parties):
        assert 'class="due"' in shown.text and 'aria-label="各协议方应担成本与已投入"' in shown.text
    bad = client.get(f"/bodies/{body}/agreements/{agreement}", params={"as_of": "2025-02-30"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    elsewhere = client.get(f"/bodies/{world.mine}/agreements/{agreement}")
    assert elsewhere.status_code == 404  # not this body's
    secretary = sign_in(world, "secretary")
    assert secretary.get(f"/bodies/{body}/agreements/{agreement}").status_code == 403


def test_an_auditor_reads_a_bodys_whole_history_by_id_or_name(world: World, ledger: Ledger) -> None:
    client = sign_in(world, "auditor")
    page = client.get(f"/bodies/{world.mine}")
    assert f'href="/history/{world.mine}"' in page.text
    shown = client.get(f"/history/{world.mine}")
    versions = ledger.community(world.mine).version
    assert shown.status_code == 200 and shown.text.count("<tr>") == versions + 1
    assert "chanjiao.community.member_admitted.v1" in shown.text
    by_name = client.get("/history/苏州市域产教联合体")
    assert by_name.status_code == 200 and by_name.text.count("<tr>") == versions + 1
    assert client.get("/history/没有这个").status_code == 404
    secretary = sign_in(world, "secretary")
    assert f'href="/history/{world.mine}"' not in secretary.get(f"/bodies/{world.mine}").text
    assert secretary.get(f"/history/{world.mine}").status_code == 403


def test_an_auditor_exports_a_bundle_that_verifies_offline(
    world: World, ledger: Ledger, tmp_path: Path, capsys
) -> None:
    import json

    from cli.main import main

    client = sign_in(world, "auditor")
    assert 'href="/audit/bundle"' in client.get("/audit").text
    bundle = client.get("/audit/bundle")
    assert bundle.status_code == 200
    assert bundle.headers["content-disposition"].startswith('attachment; filename="chanjiao-')
    path = tmp_path / "bundle.jsonl"
    path.write_bytes(bundle.content)
    capsys.readouterr()
    main(["audit", "verify-bundle", str(path), "--format", "json"])
    verified = json.loads(capsys.readouterr().out)
    assert verified["ok"] and verified["events_checked"] == head(ledger)
    assert sign_in(world, "secretary").get("/audit/bundle").status_code == 403


def test_a_bodys_page_sums_its_investment_by_kind_source_and_province(world: World) -> None:
    """The section is drawn from the investment summary (the same query as the API's
    ``GET /communities/{id}/investment``); a body with nothing contributed has none."""
    from datetime import date

    from console.pages import templates
    from projections.cost_sharing import InvestmentSummary, Slice
    from projections.membership import MemberList

    client = sign_in(world, "admin")
    assert "多元投入" not in client.get(f"/bodies/{world.mine}").text
    summary = InvestmentSummary(
        community_id=UUID(world.mine),
        community_name="苏州市域产教联合体",
        as_of=date(2025, 9, 30),
        total_contributed="7010000.00",
        outside_funding="0.00",
        total_invested="7010000.00",
        agreements=[],
        by_kind=[
            Slice("funds", "资金", "6000000.00", 8559),
            Slice("site", "场地", "1010000.00", 1441),
        ],
        by_source=[Slice("government", "政府", "3000000.00", 4280)],
        by_province=[Slice("320000", "江苏", "7010000.00", 10000)],
        by_funder=[Slice("members", "成员单位", "7010000.00", 10000)],
    )
    members = MemberList(UUID(world.mine), "苏州市域产教联合体", date(2025, 9, 30), None, [])
    html = templates.get_template("body.html").render(
        members=members, invested=summary, community=world.mine, token=None, csrf=""
    )
    assert "多元投入" in html and "7,010,000.00" in html and "6,000,000.00 元（85.59%）" in html
    assert html.count("<rect") == 5 and 'aria-label="按出资方"' in html


def test_the_council_page_shows_seats_on_a_date_and_every_meeting(
    world: World, ledger: Ledger
) -> None:
    body = world.journal.lifecycle(ledger, "s")  # seats, meetings and resolutions
    client = sign_in(world, "admin")
    assert f'href="/bodies/{body}/council"' in client.get(f"/bodies/{body}").text
    council = ledger.council(ledger.community(body))
    held = client.get(f"/bodies/{body}/council", params={"as_of": "2024-03-15"})
    assert held.status_code == 200 and "理事会席位" in held.text
    assert len(council.seats_on(date(2024, 3, 15))) >= 1
    for seat in council.seats_on(date(2024, 3, 15)):
        assert seat.representative in held.text
    assert held.text.count('<td class="num">') >= 2 * len(council.meetings)
    assert client.get(f"/bodies/{body}/council", params={"as_of": "2024-2-30"}).status_code == 422
    empty = sign_in(world, "secretary").get(f"/bodies/{world.mine}/council")
    assert "这一天没有席位" in empty.text and "尚无会议" in empty.text
