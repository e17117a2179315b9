"""Every route of the HTTP API answers on both stores with its documented status and
the fields api.md promises; errors are problem+json and write nothing; every event
names the token that caused it; a write is visible to the next read."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
import pytest
from starlette.routing import Route

from api.events import Encoder
from api.resources import ENDPOINTS
from api.stream import Hub
from domain import bundle, merkle
from domain.checkpoints import Checkpoint
from domain.values import DATE_FORMS
from tests.api.support import (
    ADMITTED_ON,
    MEETING_ON,
    PROBLEM,
    PRODUCTS,
    SEATED_ON,
    UNITS,
    Api,
    World,
    issue,
    serving,
    today_in_china,
)
from tests.factories import credit_code, wrong_check

MONEY = re.compile(r"^-?\d+\.\d{2}$")
MEMBER_FIELDS = {"unit_id", "code", "name", "type", "province", "role", "since"}
JSON = "application/json"


# --- the route table: one case per (method, path) ------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    run: Callable[[World, Any], None]
    records: bool = True  # a POST that records events

    @property
    def reads_only(self) -> bool:
        return self.method == "GET"

    def matches(self, concrete: str) -> bool:
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, concrete) is not None


CASES: dict[tuple[str, str], Case] = {}
OUTSIDE_ENDPOINTS = {  # served by api/app.py itself, not declared in ENDPOINTS
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/asyncapi.json"),
    ("GET", "/events"),
    ("GET", "/events/schemas"),
    ("GET", "/events/schemas/{type}"),
}
TESTED_ELSEWHERE = {("GET", "/events/stream")}  # tests/api/test_stream.py


def route(method: str, path: str, status: int = 200, records: bool = True) -> Callable[[Any], Any]:
    def register(run: Callable[[World, Any], None]) -> Callable[[World, Any], None]:
        assert (method, path) not in CASES, f"{method} {path} has two cases"
        CASES[(method, path)] = Case(method, path, status, run, records)
        return run

    return register


class Sender:
    """Sends one case's request: its method, to a path of its route; checks the
    documented status and media type; returns the decoded answer."""

    def __init__(self, case: Case, world: World) -> None:
        self.case = case
        self.world = world
        self.sent = 0

    def __call__(
        self,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        media: str = JSON,
        auth: bool = True,
    ) -> Any:
        assert self.case.matches(path), f"{path} is not a path of {self.case.path}"
        api = self.world.api
        before = api.position()
        if auth:
            response = api.request(self.case.method, path, json=json, params=params)
        else:
            response = api.client.request(self.case.method, path, json=json, params=params)
        self.sent += 1
        assert response.status_code == self.case.status, response.text
        assert response.headers["content-type"].split(";")[0] == media
        if self.case.method == "POST" and self.case.records:
            assert api.position() > before, "the write recorded nothing"
        elif not self.case.records:
            assert api.position() == before, "recorded events"
        return response.json() if media.endswith("json") else response.content


def is_money(value: Any) -> bool:
    return isinstance(value, str) and MONEY.fullmatch(value) is not None


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value} has no offset"
    return moment


# --- units ------------------------------------------------------------------------


@route("POST", "/units", 201)
def _(w: World, send) -> None:
    code = credit_code(77, prefix="12", division="110105")
    unit = send(
        "/units",
        json={
            "code": code,
            "name": "北京电子科技职业学院",
            "type": "vocational_school",
            "level": "higher",
            "division": "110105",
        },
    )
    uuid.UUID(unit["id"])
    assert (unit["code"], unit["province"], unit["level"]) == (code, "110000", "higher")
    assert unit["memberships"] == []


@route("GET", "/units")
def _(w: World, send) -> None:
    code = w.units[1]["code"]
    unit = send("/units", params={"code": code})
    assert (unit["id"], unit["code"], unit["province"]) == (w.unit_ids[1], code, "320000")
    [period] = unit["memberships"]
    assert (period["community_id"], period["admitted_on"]) == (w.community_id, ADMITTED_ON)


@route("GET", "/units/{id}")
def _(w: World, send) -> None:
    unit = send(f"/units/{w.unit_ids[2]}")
    assert (unit["id"], unit["type"], unit["division"], unit["province"]) == (
        w.unit_ids[2],
        "university",
        "310110",
        "310000",
    )
    [period] = unit["memberships"]
    assert period["community_id"] == w.community_id and period["exited_on"] is None


@route("POST", "/units/{id}/rename")
def _(w: World, send) -> None:
    unit = send(
        f"/units/{w.unit_ids[0]}/rename",
        json={"name": "苏州智能装备集团有限公司", "effective_on": "2025-01-01"},
    )
    assert unit["name"] == "苏州智能装备集团有限公司"
    assert unit["names"][-1] == ["2025-01-01", "苏州智能装备集团有限公司"]


@route("POST", "/units/{id}/relocate")
def _(w: World, send) -> None:
    unit = send(
        f"/units/{w.unit_ids[2]}/relocate",
        json={"division": "320506", "effective_on": "2025-02-01"},
    )
    assert (unit["division"], unit["province"]) == ("320506", "320000")
    assert unit["divisions"][-1] == ["2025-02-01", "320506"]


@route("POST", "/units/{id}/deregister")
def _(w: World, send) -> None:
    unit = w.register()
    answer = send(f"/units/{unit['id']}/deregister", json={"effective_on": "2025-06-30"})
    assert (answer["id"], answer["deregistered_on"]) == (unit["id"], "2025-06-30")


@route("POST", "/units/{id}/qualifications")
def _(w: World, send) -> None:
    unit = send(
        f"/units/{w.unit_ids[2]}/qualifications",
        json={"qualification": "双一流", "since": "2022-02-14", "source": "教研函〔2022〕1号"},
    )
    [held] = unit["qualifications"]
    assert (held["qualification"], held["name"], held["since"], held["until"]) == (
        "double_first_class",
        "双一流建设高校",
        "2022-02-14",
        None,
    )
    assert held["recorded_by"] == w.admin.principal and held["sha256"] is None
    report = w.api.get("/reports/quality", community_id=w.community_id, as_of="2024-06-30")
    assert (report["qualified"], report["qualified_share"]) == (1, "0.3333")
    before = w.api.position()
    school = w.api.request(  # 双一流 is for universities: refused, nothing written
        "POST",
        f"/units/{w.unit_ids[1]}/qualifications",
        json={"qualification": "double_first_class", "since": "2022-02-14", "source": "x"},
    )
    assert (
        school.status_code == 409
        and "双一流建设高校 is held only by 高等学校" in (school.json()["detail"])
    )
    assert w.api.position() == before


@route("POST", "/units/{id}/qualifications/end")
def _(w: World, send) -> None:
    w.api.post(
        f"/units/{w.unit_ids[0]}/qualifications",
        {"qualification": "产教融合型企业", "since": "2021-06-01", "source": "第一批名单"},
        status=200,
    )
    unit = send(
        f"/units/{w.unit_ids[0]}/qualifications/end",
        json={
            "qualification": "integration_enterprise",
            "ended_on": "2024-07-01",
            "reason": "复核未通过",
        },
    )
    [held] = unit["qualifications"]
    assert (held["until"], held["ended_because"]) == ("2024-06-30", "复核未通过")
    for day, qualified in (("2024-06-30", 1), ("2024-07-01", 0)):
        report = w.api.get("/reports/quality", community_id=w.community_id, as_of=day)
        assert report["by_qualification"][0] == {
            "qualification": "integration_enterprise",
            "name": "产教融合型企业",
            "units": qualified,
        }


@route("GET", "/units/{id}/history")
def _(w: World, send) -> None:
    history = send(f"/units/{w.unit_ids[0]}/history")
    assert history["id"] == w.unit_ids[0]
    [event] = history["events"]
    assert (event["version"], event["type"]) == (1, "chanjiao.unit.registered.v1")
    assert event["principal"] == w.admin.principal
    assert event["data"]["code"] == w.units[0]["code"]
    parse_time(event["recorded_at"])


# --- communities and members ------------------------------------------------------


@route("POST", "/communities", 201)
def _(w: World, send) -> None:
    body = send(
        "/communities",
        json={
            "name": "宁波市职业教育发展共同体",
            "kind": "development",
            "industry": "智能制造",
            "division": "330200",
            "founded_on": "2024-05-01",
        },
    )
    uuid.UUID(body["id"])
    assert (body["kind"], body["province"], body["founded_on"]) == (
        "development",
        "330000",
        "2024-05-01",
    )
    assert body["active_members"] == 0


@route("GET", "/communities")
def _(w: World, send) -> None:
    bodies = send("/communities")
    assert [b["id"] for b in bodies] == [w.community_id]
    assert bodies[0]["active_members"] == 3


@route("GET", "/communities/{id}")
def _(w: World, send) -> None:
    body = send(f"/communities/{w.community_id}")
    assert (body["id"], body["name"], body["kind"], body["division"]) == (
        w.community_id,
        w.community["name"],
        "city",
        "320506",
    )
    assert (body["founded_on"], body["dissolved_on"], body["active_members"]) == (
        "2024-01-10",
        None,
        3,
    )
    assert body["as_of"] == today_in_china().isoformat()
    assert (
        body["leads"],
        body["lead_trio_complete"],
        body["missing"],
        body["recommending_province"],
    ) == (None, None, None, None)  # a city body


@route("POST", "/communities/{id}/recommending-province")
def _(w: World, send) -> None:
    body = w.api.post(
        "/communities",
        {
            "name": "全国集成电路行业产教融合共同体",
            "kind": "industry",
            "industry": "集成电路",
            "division": "320500",
            "founded_on": "2024-01-01",
        },
    )
    c, [enterprise, school, university] = body["id"], w.units
    for unit in (enterprise, university):
        w.api.post(
            f"/communities/{c}/members",
            {"unit_id": unit["id"], "role": "lead", "effective_on": "2024-02-01"},
        )
    w.api.post(
        f"/communities/{c}/members", {"unit_id": school["code"], "effective_on": "2024-02-01"}
    )
    answer = send(
        f"/communities/{c}/recommending-province",
        json={"unit_id": university["code"], "effective_on": "2024-06-01"},
    )
    assert (answer["id"], answer["as_of"], answer["lead_trio_complete"]) == (c, "2024-06-01", False)
    assert answer["missing"] == [{"type": "vocational_school", "since": "2024-01-01"}]
    assert answer["recommending_province"] == {
        "province": "310000",
        "province_name": "上海",
        "unit_id": university["id"],
        "code": university["code"],
        "name": "上海交通大学",
        "since": "2024-06-01",
    }
    shown = w.api.get(f"/communities/{c}", as_of="2024-06-01")
    assert shown["leads"]["university"]["since"] == "2024-02-01"
    assert shown["recommending_province"] == answer["recommending_province"]
    report = w.api.get("/reports/provinces", community_id=c, as_of="2024-06-01")
    assert (report["home_province"], report["home_basis"], report["outside_home"]) == (
        "310000",
        "recommending_province",
        2,
    )


@route("POST", "/communities/{id}/dissolve")
def _(w: World, send) -> None:
    w.end_agreement("2025-12-31")  # its parties stay members while it is in force
    body = send(
        f"/communities/{w.community_id}/dissolve",
        json={"effective_on": "2025-12-31", "resolution": w.adopted("dissolution", "2025-12-20")},
    )
    assert (body["id"], body["dissolved_on"], body["active_members"]) == (
        w.community_id,
        "2025-12-31",
        0,
    )


@route("POST", "/communities/{id}/members", 201)
def _(w: World, send) -> None:
    unit = w.register(division="330212")
    answer = send(
        f"/communities/{w.community_id}/members",
        json={"unit_id": unit["code"], "effective_on": "2025-03-01"},
    )
    assert (answer["community_id"], answer["as_of"]) == (w.community_id, "2025-03-01")
    [admitted] = [m for m in answer["members"] if m["unit_id"] == unit["id"]]
    assert (admitted["role"], admitted["since"], admitted["province"]) == (
        "participant",
        "2025-03-01",
        "330000",
    )


@route("POST", "/communities/{id}/members/{unit_id}/exit")
def _(w: World, send) -> None:
    w.end_agreement("2025-06-30")  # its parties stay members while it is in force
    answer = send(
        f"/communities/{w.community_id}/members/{w.unit_ids[1]}/exit",
        json={"reason": "withdrawal", "effective_on": "2025-06-30"},
    )
    assert answer["as_of"] == "2025-06-30"
    assert {m["unit_id"] for m in answer["members"]} == {w.unit_ids[0], w.unit_ids[2]}


@route("POST", "/units/{id}/correct")
def _(w: World, send) -> None:
    unit = w.register(division="330212")
    answer = send(
        f"/units/{unit['id']}/correct",
        json={"name": "宁波更正有限公司", "division": "330203", "reason": "登记时录错"},
    )
    assert (answer["name"], answer["division"], answer["province"]) == (
        "宁波更正有限公司",
        "330203",
        "330000",
    )
    assert answer["names"] == [[None, "宁波更正有限公司"]]


@route("POST", "/communities/{id}/members/{unit_id}/annul")
def _(w: World, send) -> None:
    unit = w.register(division="330212")
    members = f"/communities/{w.community_id}/members"
    w.api.post(members, {"unit_id": unit["code"], "effective_on": "2025-03-01"})
    answer = send(f"{members}/{unit['id']}/annul", json={"reason": "误录：该单位未申请加入"})
    assert (answer["id"], answer["memberships"]) == (unit["id"], [])
    listed = w.api.get(members, as_of="2025-03-01")["members"]
    assert unit["id"] not in {m["unit_id"] for m in listed}


@route("POST", "/communities/{id}/council/seats/{unit_id}/annul")
def _(w: World, send) -> None:
    unit = w.register()["id"]
    c = w.community_id
    w.api.post(f"/communities/{c}/members", {"unit_id": unit, "effective_on": "2025-04-01"})
    seat = {"unit_id": unit, "representative": "赵六", "office": "理事", "effective_on": "2025-5-1"}
    w.api.post(f"/communities/{c}/council/seats", seat)
    answer = send(f"/communities/{c}/council/seats/{unit}/annul", json={"reason": "不是该单位"})
    assert unit not in {s["unit_id"] for s in answer["seats"]}
    assert len(answer["seats"]) == 3


@route("POST", "/communities/{id}/council/meetings/{meeting}/annul")
def _(w: World, send) -> None:
    meetings = f"/communities/{w.community_id}/council/meetings"
    number = w.api.post(meetings, {"held_on": "2025-05-02", "present": w.unit_ids[:2]})[
        "meeting_id"
    ]
    answer = send(f"{meetings}/{number}/annul", json={"reason": "日期录错"})
    [annulled] = [m for m in answer["meetings"] if m["meeting"] == number]
    assert annulled["annulled"] == "日期录错"


@route("POST", "/communities/{id}/members/{unit_id}/role")
def _(w: World, send) -> None:
    answer = send(
        f"/communities/{w.community_id}/members/{w.unit_ids[1]}/role",
        json={"role": "lead", "effective_on": "2025-01-01"},
    )
    roles = {m["unit_id"]: m["role"] for m in answer["members"]}
    assert roles == {
        w.unit_ids[0]: "participant",
        w.unit_ids[1]: "lead",
        w.unit_ids[2]: "participant",
    }


@route("GET", "/communities/{id}/members")
def _(w: World, send) -> None:
    answer = send(f"/communities/{w.community_id}/members")
    assert answer["community_id"] == w.community_id
    assert answer["as_of"] == today_in_china().isoformat()
    by_code = {m["code"]: m for m in answer["members"]}
    assert set(by_code) == {u["code"] for u in w.units}
    for unit, (_, name, type_, _, division) in zip(w.units, UNITS, strict=False):
        member = by_code[unit["code"]]
        assert member["unit_id"] == unit["id"]
        assert set(member) >= MEMBER_FIELDS
        assert (member["name"], member["type"], member["role"], member["since"]) == (
            name,
            type_,
            "participant",
            ADMITTED_ON,
        )
        assert member["province"] == division[:2] + "0000"
    before = send(f"/communities/{w.community_id}/members", params={"as_of": "2024-01-14"})
    assert (before["as_of"], before["members"]) == ("2024-01-14", [])
    history = w.api.get(f"/communities/{w.community_id}/history")["events"]
    first_admission = next(e for e in history if e["type"].endswith("member_admitted.v1"))
    known = send(
        f"/communities/{w.community_id}/members",
        params={"as_of": ADMITTED_ON, "known_at": first_admission["recorded_at"]},
    )
    assert [m["unit_id"] for m in known["members"]] == [w.unit_ids[0]]


@route("GET", "/communities/{id}/history")
def _(w: World, send) -> None:
    history = send(f"/communities/{w.community_id}/history")
    events = history["events"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events] == [
        "chanjiao.community.founded.v1",
        *["chanjiao.community.member_admitted.v1"] * 3,
        "chanjiao.community.charter_adopted.v1",
        "chanjiao.community.filing_recorded.v1",
        "chanjiao.community.indicator_recorded.v1",
    ]
    assert {e["principal"] for e in events} == {w.admin.principal}
    times = [parse_time(e["recorded_at"]) for e in events]
    assert times == sorted(times)


# --- governance -------------------------------------------------------------------


@route("POST", "/communities/{id}/charter", 201)
def _(w: World, send) -> None:
    number = w.adopted("charter", "2024-12-20", "修订章程：成员加入须经理事会决议")
    charter = send(
        f"/communities/{w.community_id}/charter",
        json={
            "version": "2.0",
            "resolution": number,
            "effective_on": "2025-01-01",
            "rules": {
                "quorum": "2/3",
                "majorities": {"removal": "seats:two_thirds"},
                "admission_requires_resolution": True,
            },
        },
    )
    assert (charter["version"], charter["effective_on"], charter["adopted_by"]) == (
        "2.0",
        "2025-01-01",
        number,
    )
    assert (charter["quorum"], charter["admission_requires_resolution"]) == ("2/3", True)
    assert charter["majorities"]["removal"] == {"base": "seats", "threshold": "two_thirds"}


@route("GET", "/communities/{id}/charter")
def _(w: World, send) -> None:
    charter = send(f"/communities/{w.community_id}/charter")
    assert (charter["version"], charter["effective_on"]) == ("1.0", ADMITTED_ON)
    before = send(f"/communities/{w.community_id}/charter", params={"as_of": "2024-01-12"})
    assert before["version"] is None  # the founding-phase rules


@route("POST", "/communities/{id}/council/seats", 201)
def _(w: World, send) -> None:
    unit = w.register()
    w.api.post(
        f"/communities/{w.community_id}/members",
        {"unit_id": unit["id"], "effective_on": "2025-01-10"},
    )
    seats = send(
        f"/communities/{w.community_id}/council/seats",
        json={
            "unit_id": unit["id"],
            "representative": "周婷",
            "office": "vice_chair",
            "effective_on": "2025-02-01",
        },
    )
    assert seats["as_of"] == "2025-02-01"
    [seat] = [s for s in seats["seats"] if s["unit_id"] == unit["id"]]
    assert (seat["representative"], seat["office"], seat["since"]) == (
        "周婷",
        "vice_chair",
        "2025-02-01",
    )


@route("GET", "/communities/{id}/council/seats")
def _(w: World, send) -> None:
    seats = send(f"/communities/{w.community_id}/council/seats")
    offices = {s["unit_id"]: s["office"] for s in seats["seats"]}
    assert offices == {w.unit_ids[0]: "chair", w.unit_ids[1]: "director", w.unit_ids[2]: "director"}
    assert {s["since"] for s in seats["seats"]} == {SEATED_ON}


@route("POST", "/communities/{id}/council/seats/{unit_id}/vacate")
def _(w: World, send) -> None:
    seats = send(
        f"/communities/{w.community_id}/council/seats/{w.unit_ids[2]}/vacate",
        json={"effective_on": "2025-03-31"},
    )
    assert seats["as_of"] == "2025-03-31"
    assert {s["unit_id"] for s in seats["seats"]} == set(w.unit_ids[:2])


@route("POST", "/communities/{id}/council/meetings", 201)
def _(w: World, send) -> None:
    meeting = send(
        f"/communities/{w.community_id}/council/meetings",
        json={"held_on": "2025-05-20", "present": w.unit_ids[:2]},
    )
    assert meeting == {
        "meeting_id": w.meeting["meeting_id"] + 1,
        "community_id": w.community_id,
        "held_on": "2025-05-20",
        "present": 2,
    }


@route("POST", "/communities/{id}/council/resolutions", 201)
def _(w: World, send) -> None:
    c = w.community_id
    meeting = w.api.post(
        f"/communities/{c}/council/meetings", {"held_on": "2025-05-20", "present": w.unit_ids}
    )
    adopted = send(
        f"/communities/{c}/council/resolutions",
        json={
            "meeting_id": meeting["meeting_id"],
            "matter": "ordinary",
            "title": "2025年度工作计划",
            "votes": {"for": 2, "against": 1, "abstain": 0},
        },
    )
    assert (adopted["outcome"], adopted["number"]) == ("adopted", "2025-001")
    assert adopted["reason"].startswith("adopted")
    rejected = send(
        f"/communities/{c}/council/resolutions",
        json={
            "meeting_id": meeting["meeting_id"],
            "matter": "removal",
            "title": "清退成员",
            "votes": {"for": 1, "against": 2, "abstain": 0},
        },
    )
    assert (rejected["outcome"], rejected["number"]) == ("rejected", None)
    assert rejected["reason"]


@route("GET", "/communities/{id}/resolutions")
def _(w: World, send) -> None:
    register = send(f"/communities/{w.community_id}/resolutions")
    assert register["community_id"] == w.community_id
    [entry] = register["resolutions"]
    assert (entry["number"], entry["held_on"], entry["matter"], entry["outcome"]) == (
        "2024-001",
        MEETING_ON,
        "agreement",
        "adopted",
    )
    assert (entry["votes_for"], entry["votes_against"], entry["abstentions"]) == (3, 0, 0)
    drafted = recorded_at(w, f"/agreements/{w.agreement_id}/history", "drafted")
    known = send(f"/communities/{w.community_id}/resolutions", params={"known_at": drafted})
    assert (known["known_at"], known["resolutions"]) == (drafted, register["resolutions"])
    charter = recorded_at(w, f"/communities/{w.community_id}/history", "charter_adopted")
    refused = w.api.request(
        "GET", f"/communities/{w.community_id}/resolutions", params={"known_at": charter}
    )
    assert refused.status_code == 404
    assert refused.json()["detail"] == (
        f"the council of 苏州工业园区市域产教联合体 had not been recorded yet at "
        f"{datetime.fromisoformat(charter).isoformat()}"
    )


def recorded_at(w: World, history: str, kind: str) -> str:
    """When the first event of ``kind`` in a history was recorded."""
    events = w.api.get(history)["events"]
    return next(e["recorded_at"] for e in events if e["type"].split(".")[2] == kind)


def refuses_known_at(w: World, path: str, **params: str) -> None:
    """A known_at the ledger's parser refuses: 422 in the words of ``--known-at``."""
    response = w.api.request("GET", path, params={**params, "known_at": "2025-07-15T9:30"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "known-at time must be a timestamp such as 2025-07-15T09:30:00+08:00 or a date "
        f"{DATE_FORMS}; got '2025-07-15T9:30'"
    )


# --- agreements -------------------------------------------------------------------


@route("POST", "/communities/{id}/agreements", 201)
def _(w: World, send) -> None:
    draft = send(
        f"/communities/{w.community_id}/agreements",
        json={
            "title": "智能制造产业学院",
            "kind": "industry_college",
            "drafted_on": "2025-01-20",
            "parties": [
                {"unit_id": w.unit_ids[0], "cost_share_bp": 6000, "benefit_share_bp": 5000},
                {"unit_id": w.units[1]["code"], "cost_share_bp": 4000, "benefit_share_bp": 5000},
            ],
        },
    )
    uuid.UUID(draft["id"])
    assert (draft["status"], draft["community_id"], draft["drafted_on"]) == (
        "draft",
        w.community_id,
        "2025-01-20",
    )
    [terms] = draft["terms"]
    assert [(p["unit_id"], p["cost_share_bp"]) for p in terms["parties"]] == [
        (w.unit_ids[0], 6000),
        (w.unit_ids[1], 4000),
    ]


@route("GET", "/communities/{id}/investment")
def _(w: World, send) -> None:
    summary = send(f"/communities/{w.community_id}/investment")
    assert (summary["community_id"], summary["total_contributed"]) == (w.community_id, "100000.00")
    assert [
        (s["key"], s["amount"], s["share_bp"]) for s in summary["by_kind"] if s["amount"] != "0.00"
    ] == [("funds", "100000.00", 10000)]
    assert [s["key"] for s in summary["by_province"] if s["share_bp"]] == ["320000"]
    assert all(is_money(s["amount"]) for s in summary["by_source"])
    approved = recorded_at(w, f"/agreements/{w.agreement_id}/history", "approved")
    known = send(f"/communities/{w.community_id}/investment", params={"known_at": approved})
    assert (known["known_at"], known["total_contributed"]) == (approved, "0.00")
    assert [(a["status"], a["contributed"], a["costs"]) for a in known["agreements"]] == [
        ("active", "0.00", "0.00")
    ]
    refuses_known_at(w, f"/communities/{w.community_id}/investment")


@route("GET", "/agreements")
def _(w: World, send) -> None:
    every = send("/agreements")
    assert [a["id"] for a in every["agreements"]] == [w.agreement_id]
    one = send("/agreements", params={"community_id": w.community_id})
    assert one["community_id"] == w.community_id
    [summary] = one["agreements"]
    assert (summary["status"], summary["parties"], summary["approved_on"]) == (
        "active",
        3,
        MEETING_ON,
    )


@route("GET", "/agreements/{id}")
def _(w: World, send) -> None:
    agreement = send(f"/agreements/{w.agreement_id}")
    assert (agreement["id"], agreement["status"], agreement["approved_on"]) == (
        w.agreement_id,
        "active",
        MEETING_ON,
    )
    assert [t["resolution"] for t in agreement["terms"]] == [None, "2024-001"]
    assert [(e["type"], e["amount"]) for e in agreement["entries"]] == [
        ("contribution", "100000.00"),
        ("cost", "1234.50"),
        ("benefit", "300.01"),
    ]


@route("POST", "/agreements/{id}/approve")
def _(w: World, send) -> None:
    draft = w.api.post(
        f"/communities/{w.community_id}/agreements",
        {
            "title": "实训耗材联合采购",
            "drafted_on": "2025-01-20",
            "parties": [
                {"unit_id": u, "cost_share_bp": 5000, "benefit_share_bp": 5000}
                for u in w.unit_ids[:2]
            ],
        },
    )
    number = w.adopted("agreement", "2025-02-10")
    approved = send(
        f"/agreements/{draft['id']}/approve",
        json={"resolution": number, "effective_on": "2025-02-15"},
    )
    assert (approved["id"], approved["status"], approved["approved_on"]) == (
        draft["id"],
        "active",
        "2025-02-15",
    )
    assert approved["terms"][-1]["resolution"] == number


@route("POST", "/agreements/{id}/amend")
def _(w: World, send) -> None:
    number = w.adopted("agreement", "2025-06-01", "调整分担比例")
    amended = send(
        f"/agreements/{w.agreement_id}/amend",
        json={
            "resolution": number,
            "effective_on": "2025-07-01",
            "parties": [
                {"unit_id": u, "cost_share_bp": bp, "benefit_share_bp": bp}
                for u, bp in zip(w.unit_ids, (4000, 4000, 2000), strict=False)
            ],
        },
    )
    latest = amended["terms"][-1]
    assert (latest["effective_on"], latest["resolution"]) == ("2025-07-01", number)
    assert [p["cost_share_bp"] for p in latest["parties"]] == [4000, 4000, 2000]


@route("POST", "/agreements/{id}/terminate")
def _(w: World, send) -> None:
    number = w.adopted("agreement", "2025-06-01", "终止协议")
    ended = send(
        f"/agreements/{w.agreement_id}/terminate",
        json={"resolution": number, "effective_on": "2025-06-30"},
    )
    assert (ended["status"], ended["terminated_on"], ended["terminated_by"]) == (
        "terminated",
        "2025-06-30",
        number,
    )


@route("POST", "/agreements/{id}/contributions", 201)
def _(w: World, send) -> None:
    entry = send(
        f"/agreements/{w.agreement_id}/contributions",
        json={
            "unit_id": w.units[1]["code"],
            "kind": "site",
            "amount": "1800000",
            "contributed_on": "2024-06-01",
            "description": "实训楼使用权（按评估价）",
        },
    )
    assert (entry["entry"], entry["type"], entry["amount"], entry["kind"]) == (
        4,
        "contribution",
        "1800000.00",
        "site",
    )
    assert (entry["unit_id"], entry["on"]) == (w.unit_ids[1], "2024-06-01")


@route("POST", "/agreements/{id}/funding", 201)
def _(w: World, send) -> None:
    entry = send(
        f"/agreements/{w.agreement_id}/funding",
        json={
            "funder": "苏州市财政局",
            "funder_kind": "政府专项资金",
            "kind": "资金",
            "amount": "50万",
            "received_on": "2024-06-01",
            "description": "产教融合专项资金",
        },
    )
    assert (entry["entry"], entry["type"], entry["amount"], entry["unit_id"]) == (
        4,
        "funding",
        "500000.00",
        None,
    )
    assert (entry["funder"], entry["funder_kind"]) == ("苏州市财政局", "government_fund")
    summary = w.api.get(f"/communities/{w.community_id}/investment", as_of="2024-12-31")
    assert (summary["total_contributed"], summary["outside_funding"]) == (
        "100000.00",
        "500000.00",
    )
    assert summary["total_invested"] == "600000.00"
    funders = {s["key"]: s["amount"] for s in summary["by_funder"] if s["amount"] != "0.00"}
    assert funders == {"members": "100000.00", "government_fund": "500000.00"}
    assert summary["by_province"][-1]["key"] == "outside"
    report = w.api.get(f"/agreements/{w.agreement_id}/report", as_of="2024-12-31")
    assert (report["total_contributed"], report["outside_funding"]) == ("100000.00", "500000.00")
    before = w.api.position()
    member = w.api.request(  # a member's money is a party's contribution
        "POST",
        f"/agreements/{w.agreement_id}/funding",
        json={
            "funder": UNITS[0][1],
            "funder_kind": "enterprise",
            "kind": "funds",
            "amount": "1",
            "received_on": "2024-06-01",
            "description": "x",
        },
    )
    assert (
        member.status_code == 409
        and "recorded as a party's contribution" in (member.json()["detail"])
    )
    assert w.api.position() == before


@route("POST", "/agreements/{id}/costs", 201)
def _(w: World, send) -> None:
    entry = send(
        f"/agreements/{w.agreement_id}/costs",
        json={"amount": "456789.12", "incurred_on": "2024-06-30", "description": "耗材"},
    )
    assert (entry["entry"], entry["type"], entry["amount"], entry["on"]) == (
        4,
        "cost",
        "456789.12",
        "2024-06-30",
    )
    assert entry["unit_id"] is None


@route("POST", "/agreements/{id}/benefits", 201)
def _(w: World, send) -> None:
    entry = send(
        f"/agreements/{w.agreement_id}/benefits",
        json={"amount": "320000.5", "realized_on": "2024-08-31", "description": "暑期培训收入"},
    )
    assert (entry["entry"], entry["type"], entry["amount"]) == (4, "benefit", "320000.50")


@route("POST", "/agreements/{id}/entries/{entry}/reverse")
def _(w: World, send) -> None:
    number = w.entries["cost"]["entry"]
    entry = send(
        f"/agreements/{w.agreement_id}/entries/{number}/reverse",
        json={"reason": "录入错误：金额有误"},
    )
    assert (entry["entry"], entry["reversed_because"]) == (number, "录入错误：金额有误")
    report = w.api.get(f"/agreements/{w.agreement_id}/report")
    assert report["total_costs"] == "0.00"


@route("GET", "/agreements/{id}/report")
def _(w: World, send) -> None:
    report = send(f"/agreements/{w.agreement_id}/report")
    assert (report["agreement_id"], report["as_of"]) == (
        w.agreement_id,
        today_in_china().isoformat(),
    )
    assert (report["total_costs"], report["total_contributed"], report["total_benefits"]) == (
        "1234.50",
        "100000.00",
        "300.01",
    )
    fields = ("cost_due", "contributed", "balance", "benefit_due")
    for party in report["parties"]:
        assert all(is_money(party[f]) for f in fields), party
    rows = [
        (
            p["unit_id"],
            p["cost_share_bp"],
            p["benefit_share_bp"],
            p["cost_due"],
            p["contributed"],
            p["balance"],
            p["benefit_due"],
        )
        for p in report["parties"]
    ]
    assert rows == [
        (w.unit_ids[0], 5000, 4000, "617.25", "100000.00", "99382.75", "120.01"),
        (w.unit_ids[1], 3000, 3000, "370.35", "0.00", "-370.35", "90.00"),
        (w.unit_ids[2], 2000, 3000, "246.90", "0.00", "-246.90", "90.00"),
    ]
    earlier = send(f"/agreements/{w.agreement_id}/report", params={"as_of": "2024-04-10"})
    assert (earlier["as_of"], earlier["total_costs"]) == ("2024-04-10", "0.00")
    contributed = recorded_at(w, f"/agreements/{w.agreement_id}/history", "contribution_recorded")
    known = send(f"/agreements/{w.agreement_id}/report", params={"known_at": contributed})
    assert (
        known["known_at"],
        known["total_costs"],
        known["total_contributed"],
        known["total_benefits"],
    ) == (contributed, "0.00", "100000.00", "0.00")
    today = send(
        f"/agreements/{w.agreement_id}/report", params={"known_at": today_in_china().isoformat()}
    )  # the end of today: all
    assert {**today, "known_at": None} == {**report, "known_at": None}
    refuses_known_at(w, f"/agreements/{w.agreement_id}/report")


@route("GET", "/agreements/{id}/history")
def _(w: World, send) -> None:
    events = send(f"/agreements/{w.agreement_id}/history")["events"]
    assert [e["type"].split(".")[2] for e in events] == [
        "drafted",
        "approved",
        "contribution_recorded",
        "cost_incurred",
        "benefit_realized",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert {e["principal"] for e in events} == {w.admin.principal}
    assert events[3]["data"]["amount_fen"] == 123450
    # approval takes effect on its resolution's meeting date; entries on their own dates
    assert [e["effective_on"] for e in events] == [
        "2024-02-20",
        MEETING_ON,
        "2024-04-01",
        "2024-04-15",
        "2024-05-01",
    ]
    hashes = w.api.ledger.event_hashes(uuid.UUID(w.agreement_id))  # none kept on memory://
    assert [e["hash"] for e in events] == [hashes.get(v) for v in range(1, 6)]


@route("GET", "/audit/verify")
def _(w: World, send) -> None:
    w.api.request("POST", "/audit/checkpoints")
    answer = send("/audit/verify")
    assert answer == {
        "ok": True,
        "events_checked": w.api.position(),
        "checkpoints_checked": 1,
        "problems": [],
    }


def checkpoint_of(answer: dict[str, Any]) -> Checkpoint:
    checkpoint = msgspec.convert(answer, Checkpoint, strict=False)
    assert checkpoint.signature_ok()
    return checkpoint


@route("POST", "/audit/checkpoints", records=False)
def _(w: World, send) -> None:
    first = checkpoint_of(send("/audit/checkpoints"))
    assert (first.size, first.position) == (w.api.position(), w.api.position())
    assert checkpoint_of(send("/audit/checkpoints")) == first  # the log has not grown


@route("GET", "/audit/checkpoints")
def _(w: World, send) -> None:
    signed = w.api.request("POST", "/audit/checkpoints").json()
    kept = send("/audit/checkpoints")
    assert kept[-1] == signed and all(checkpoint_of(c) for c in kept)
    assert [c["size"] for c in kept] == sorted({c["size"] for c in kept})


@route("GET", "/audit/proofs/inclusion")
def _(w: World, send) -> None:
    checkpoint = checkpoint_of(w.api.request("POST", "/audit/checkpoints").json())
    proof = send("/audit/proofs/inclusion", params={"position": 2})
    assert (proof["index"], proof["verified"]) == (1, True)
    assert checkpoint_of(proof["checkpoint"]) == checkpoint
    assert merkle.verify_inclusion(
        1,
        checkpoint.size,
        merkle.leaf_hash(bytes.fromhex(proof["event_hash"])),
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(checkpoint.root),
    )


@route("GET", "/audit/export")
def _(w: World, send) -> None:
    whole = send("/audit/export", media="application/jsonl")
    result = bundle.verify(whole.splitlines(keepends=True))
    assert result.ok and result.scope == "all"
    assert result.events_checked == w.api.position()
    part = send("/audit/export", params={"community_id": w.community_id}, media="application/jsonl")
    result = bundle.verify(part.splitlines(keepends=True))
    assert result.ok and result.scope == f"community {w.community_id}"
    assert 0 < result.events_checked <= w.api.position()  # the world is one body
    response = w.api.request("GET", "/audit/export")
    assert response.headers["content-disposition"].startswith('attachment; filename="chanjiao-all-')


@route("GET", "/audit/proofs/consistency")
def _(w: World, send) -> None:
    second = checkpoint_of(w.api.request("POST", "/audit/checkpoints").json())
    ledger = w.api.ledger  # the tree of the first three events, as an auditor kept it then
    leaves = ledger.chain.leaves(ledger.factory.datastore, 3)
    first_root = merkle.root([merkle.leaf_hash(h) for *_, h in leaves])
    proof = send("/audit/proofs/consistency", params={"first": 3})
    assert (proof["first_size"], proof["first"], proof["verified"]) == (3, None, None)
    assert checkpoint_of(proof["second"]) == second
    assert merkle.verify_consistency(
        3,
        second.size,
        first_root,
        bytes.fromhex(second.root),
        [bytes.fromhex(h) for h in proof["proof"]],
    )


@route("GET", "/reports/provinces")
def _(w: World, send) -> None:
    one = send("/reports/provinces", params={"community_id": w.community_id})
    assert [(p["province"], p["name"], p["units"]) for p in one["provinces"]] == [
        ("320000", "江苏", 2),
        ("310000", "上海", 1),
    ]
    assert (one["province_count"], one["home_province"], one["outside_home_share"]) == (
        2,
        "320000",
        "0.3333",
    )
    assert one["as_of"] == today_in_china().isoformat()
    national = send("/reports/provinces", params={"as_of": "2024-06-30"})
    assert (national["as_of"], national["home_province"], national["province_count"]) == (
        "2024-06-30",
        None,
        2,
    )
    assert national["outside_home_share"] == "0.3333"
    admitted = recorded_at(w, f"/communities/{w.community_id}/history", "member_admitted")
    for params in ({"community_id": w.community_id}, {}):
        known = send("/reports/provinces", params={**params, "known_at": admitted})
        assert (known["known_at"], known["total"], known["provinces"]) == (
            admitted,
            1,
            [{"province": "320000", "name": "江苏", "units": 1}],
        )
        refuses_known_at(w, "/reports/provinces", **params)


@route("GET", "/reports/quality")
def _(w: World, send) -> None:
    one = send("/reports/quality", params={"community_id": w.community_id, "as_of": "2024-06-30"})
    assert (one["community_id"], one["total"], one["qualified"], one["qualified_share"]) == (
        w.community_id,
        3,
        0,
        "0.0000",
    )
    assert [q["qualification"] for q in one["by_qualification"]][:3] == [
        "integration_enterprise",
        "central_soe",
        "listed_company",
    ]
    assert {t["unit_type"]: t["units"] for t in one["by_type"]} == {
        "enterprise": 1,
        "vocational_school": 1,
        "university": 1,
    }
    national = send("/reports/quality", params={"as_of": "2023-12-31"})
    assert (national["community_id"], national["total"], national["qualified_bp"]) == (
        None,
        0,
        None,
    )
    refuses_known_at(w, "/reports/quality")


# --- the annual cycle ---------------------------------------------------------------


@route("POST", "/communities/{id}/filings", 201)
def _(w: World, send) -> None:
    filed = send(
        f"/communities/{w.community_id}/filings",
        json={
            "kind": "核心产品清单",
            "year": 2025,
            "filed_on": "2025年12月8日",
            "title": "2025 年核心产品清单（修订）",
            "sha256": PRODUCTS.upper(),
            "size": 4096,
        },
    )
    first, shown = filed["filings"]
    assert (shown["kind"], shown["filed_on"], shown["sha256"]) == (
        "product_list",
        "2025-12-08",
        PRODUCTS,
    )
    assert shown["recorded_by"] == w.admin.principal and not shown["superseded"]
    assert first["superseded"]  # the world's own, filed on 1 December
    before = w.api.position()
    wrong = w.api.request(
        "POST",
        f"/communities/{w.community_id}/filings",
        json={
            "kind": "work_plan",
            "year": 2025,
            "filed_on": "2025-12-01",
            "title": "x",
            "sha256": PRODUCTS,
            "size": 1,
        },
    )
    assert wrong.status_code == 422 and "it files product_list" in wrong.json()["detail"]
    assert w.api.position() == before


@route("GET", "/communities/{id}/filings")
def _(w: World, send) -> None:
    listed = send(f"/communities/{w.community_id}/filings", params={"year": 2025})
    assert [f["title"] for f in listed["filings"]] == ["2025 年核心产品清单"]
    assert listed["filings"][0]["resolution"] == w.resolution["number"]
    assert send(f"/communities/{w.community_id}/filings", params={"year": 2024})["filings"] == []
    refuses_known_at(w, f"/communities/{w.community_id}/filings")


@route("GET", "/communities/{id}/obligations")
def _(w: World, send) -> None:
    due = send(
        f"/communities/{w.community_id}/obligations", params={"year": 2025, "as_of": "2025-12-20"}
    )
    assert [(o["kind"], o["status"]) for o in due["obligations"]] == [
        ("product_list", "on_time"),
        ("technology_demand_list", "missing"),
        ("talent_demand_list", "missing"),
    ]
    assert (due["due"], due["on_time"], due["timeliness"]) == (3, 1, "33%")
    assert [(x["name"], x["state"]) for x in due["windows"]] == [
        ("registration", "closed"),
        ("performance_data", "closed"),
    ]
    early = send(
        f"/communities/{w.community_id}/obligations", params={"year": 2025, "as_of": "2025-11-30"}
    )
    assert {o["status"] for o in early["obligations"]} == {"not_yet_due"}
    refuses_known_at(w, f"/communities/{w.community_id}/obligations")


@route("POST", "/communities/{id}/indicators", 201)
def _(w: World, send) -> None:
    own = send(
        f"/communities/{w.community_id}/indicators",
        json={
            "indicator": "投入资金",
            "year": 2024,
            "value": "12.5万",
            "evidence_sha256": PRODUCTS,
        },
    )
    funds = next(r for r in own["indicators"] if r["indicator"] == "funds_invested")
    assert (funds["value"], funds["source"], funds["measure"]) == ("125000.00", "body", "yuan")
    before = w.api.position()
    outsider = w.api.request(
        "POST",
        f"/communities/{w.community_id}/indicators",
        json={
            "indicator": "core_courses",
            "year": 2023,
            "value": 3,
            "unit_id": w.unit_ids[0],
            "evidence_sha256": PRODUCTS,
        },
    )
    assert outsider.status_code == 422 and "did not exist in 2023" in outsider.json()["detail"]
    negative = w.api.request(
        "POST",
        f"/communities/{w.community_id}/indicators",
        json={"indicator": "core_courses", "year": 2024, "value": -1, "evidence_sha256": PRODUCTS},
    )
    assert negative.status_code == 422 and w.api.position() == before


@route("GET", "/communities/{id}/indicators")
def _(w: World, send) -> None:
    report = send(f"/communities/{w.community_id}/indicators", params={"year": 2024})
    rows = {r["indicator"]: r for r in report["indicators"]}
    assert len(rows) == 24
    order = rows["students_order_classes"]
    assert (order["value"], order["source"], order["previous"]) == (45, "members", None)
    [figure] = order["reported"]
    assert (figure["unit_id"], figure["evidence_sha256"]) == (w.unit_ids[0], PRODUCTS)
    later = send(f"/communities/{w.community_id}/indicators", params={"year": 2025})
    assert later["indicators"][1]["previous"] == 45
    refuses_known_at(w, f"/communities/{w.community_id}/indicators", year="2024")


@route("GET", "/reports/indicators")
def _(w: World, send) -> None:
    report = send("/reports/indicators", params={"year": 2024})
    order = next(r for r in report["indicators"] if r["indicator"] == "students_order_classes")
    assert (order["total"], order["bodies"]) == (45, 1)
    assert (order["by_kind"], order["by_province"]) == ({"city": 45}, {"320000": 45})
    assert next(r for r in report["indicators"] if r["indicator"] == "core_courses")["bodies"] == 0
    refuses_known_at(w, "/reports/indicators", year="2024")


@route("GET", "/reports/obligations")
def _(w: World, send) -> None:
    report = send("/reports/obligations", params={"year": 2025, "as_of": "2025-12-20"})
    [body] = report["bodies"]
    assert (body["community_id"], body["on_time"], body["missing"]) == (w.community_id, 1, 2)
    assert body["late_or_missing"] == ["technology_demand_list", "talent_demand_list"]
    assert report["by_kind"]["product_list"]["on_time"] == 1
    refuses_known_at(w, "/reports/obligations")


# --- outside ENDPOINTS --------------------------------------------------------------


@route("GET", "/healthz")
def _(w: World, send) -> None:
    assert send("/healthz", auth=False) == {"ok": True}


@route("GET", "/openapi.json")
def _(w: World, send) -> None:
    document = send("/openapi.json", auth=False)
    assert document["openapi"].startswith("3.")
    declared = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert {(e.method, e.path) for e in ENDPOINTS} <= declared
    for e in ENDPOINTS:
        assert str(e.status) in document["paths"][e.path][e.method.lower()]["responses"]
    for path in (
        "/communities/{id}/members",
        "/communities/{id}/resolutions",
        "/communities/{id}/investment",
        "/agreements/{id}/report",
        "/reports/provinces",
    ):
        [known_at] = [
            p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "known_at"
        ]
        assert (known_at["in"], known_at["required"]) == ("query", False)
        assert "the end of that day in China" in known_at["schema"]["description"]


@route("GET", "/asyncapi.json")
def _(w: World, send) -> None:
    document = send("/asyncapi.json", auth=False)
    assert document["asyncapi"]
    assert "chanjiao.community.member_admitted.v1" in str(document)


@route("GET", "/events")
def _(w: World, send) -> None:
    batch = send("/events", params={"limit": 1000}, media="application/cloudevents-batch+json")
    positions = [e["position"] for e in batch]
    assert positions == sorted(positions) and len(positions) == len(set(positions))
    assert len(batch) >= 19
    first = batch[0]
    assert (first["specversion"], first["id"], first["type"]) == (
        "1.0",
        str(first["position"]),
        "chanjiao.unit.registered.v1",
    )
    assert (first["subject"], first["datacontenttype"]) == (w.unit_ids[0], JSON)
    parse_time(first["time"])
    page = send(
        "/events",
        params={"after": positions[0], "limit": 2, "type": "chanjiao.agreement.cost_incurred.v1"},
        media="application/cloudevents-batch+json",
    )
    [cost] = page
    assert (cost["subject"], cost["data"]["amount_fen"]) == (w.agreement_id, 123450)


@route("GET", "/events/schemas")
def _(w: World, send) -> None:
    schemas = send("/events/schemas", media="application/schema+json")
    assert {"chanjiao.unit.registered.v1", "chanjiao.agreement.cost_incurred.v1"} <= set(
        schemas["types"]
    )


@route("GET", "/events/schemas/{type}")
def _(w: World, send) -> None:
    schema = send("/events/schemas/chanjiao.unit.registered.v1", media="application/schema+json")
    assert "code" in str(schema)


# --- the tests ----------------------------------------------------------------------

READS = [c for c in CASES.values() if c.reads_only]
WRITES = [c for c in CASES.values() if not c.reads_only]


def _id(case: Case) -> str:
    return f"{case.method} {case.path}"


@pytest.mark.parametrize("case", READS, ids=_id)
def test_every_read_route_answers_with_its_documented_fields(shared_world, case) -> None:
    send = Sender(case, shared_world)
    before = shared_world.api.position()
    case.run(shared_world, send)
    assert send.sent >= 1
    assert shared_world.api.position() == before, "a read recorded something"


@pytest.mark.parametrize("case", WRITES, ids=_id)
def test_every_write_route_records_and_answers_with_its_documented_status(world, case) -> None:
    send = Sender(case, world)
    case.run(world, send)
    assert send.sent >= 1


def test_every_route_the_app_serves_has_a_case_here(app) -> None:
    declared = {(e.method, e.path) for e in ENDPOINTS}
    assert len(declared) == len(ENDPOINTS), "a route is declared twice"
    assert set(CASES) == declared | OUTSIDE_ENDPOINTS
    served = {
        (m, r.path)
        for r in app.routes
        if isinstance(r, Route)
        for m in (r.methods or ())
        if m != "HEAD"
    }
    assert served == set(CASES) | TESTED_ELSEWHERE


def test_each_case_expects_the_status_its_endpoint_declares() -> None:
    for e in ENDPOINTS:
        assert CASES[(e.method, e.path)].status == e.status, f"{e.method} {e.path}"


# --- errors -------------------------------------------------------------------------


def _unit_body(w: World, **change: Any) -> dict[str, Any]:
    return {
        "code": w.next_code(),
        "name": "某公司",
        "type": "enterprise",
        "division": "320506",
        **change,
    }


ERRORS = {  # what is wrong: (request, status, problem type, words the detail must hold)
    "a credit code with a wrong check character": (
        lambda w: ("POST", "/units", _unit_body(w, code=wrong_check(credit_code(5)))),
        422,
        "invalid-credit-code",
        "check character should be",
    ),
    "a division that is not one": (
        lambda w: ("POST", "/units", _unit_body(w, division="990101")),
        422,
        "invalid-division",
        "990101",
    ),
    "an unknown JSON field": (
        lambda w: ("POST", "/units", _unit_body(w, colour="blue")),
        422,
        "invalid-input",
        "the request body has colour, which this request does not take",
    ),
    "a field of the wrong type": (
        lambda w: (
            "POST",
            f"/agreements/{w.agreement_id}/costs",
            {"amount": 12.5, "incurred_on": "2024-06-01", "description": "x"},
        ),
        422,
        "invalid-input",
        "amount must be text, not a number; got 12.5",
    ),
    "an amount with three decimals": (
        lambda w: (
            "POST",
            f"/agreements/{w.agreement_id}/costs",
            {"amount": "12.345", "incurred_on": "2024-06-01", "description": "x"},
        ),
        422,
        "invalid-amount",
        "'12.345' has more than two decimal places",
    ),
    "a code already registered": (
        lambda w: ("POST", "/units", _unit_body(w, code=w.units[0]["code"])),
        409,
        "already-registered",
        "is already registered",
    ),
    "an admission of a member": (
        lambda w: (
            "POST",
            f"/communities/{w.community_id}/members",
            {"unit_id": w.unit_ids[0], "effective_on": "2025-01-01"},
        ),
        409,
        "already-member",
        "already an active member",
    ),
    "an effective date in the future": (
        lambda w: (
            "POST",
            f"/communities/{w.community_id}/members/{w.unit_ids[0]}/exit",
            {"reason": "withdrawal", "effective_on": "2999-01-01"},
        ),
        422,
        "invalid-date",
        "2999-01-01 is in the future",
    ),
    "an unknown community": (
        lambda w: (
            "POST",
            f"/communities/{uuid.uuid4()}/members",
            {"unit_id": w.unit_ids[0], "effective_on": "2025-01-01"},
        ),
        404,
        "community-not-found",
        "has been founded",
    ),
    "an unknown unit": (
        lambda w: (
            "POST",
            f"/communities/{w.community_id}/members",
            {"unit_id": credit_code(999), "effective_on": "2025-01-01"},
        ),
        404,
        "unit-not-found",
        "is registered",
    ),
    "an unknown agreement": (
        lambda w: (
            "POST",
            f"/agreements/{uuid.uuid4()}/costs",
            {"amount": "1.00", "incurred_on": "2024-06-01", "description": "x"},
        ),
        404,
        "agreement-not-found",
        "has been drafted",
    ),
    "a recommending province for a city body": (
        lambda w: (
            "POST",
            f"/communities/{w.community_id}/recommending-province",
            {"unit_id": w.unit_ids[0], "effective_on": "2024-06-01"},
        ),
        409,
        "not-an-industry-body",
        "only an industry community has a recommending province",
    ),
    "reading an unknown community": (
        lambda w: ("GET", f"/communities/{uuid.uuid4()}", None),
        404,
        "community-not-found",
        "has been founded",
    ),
    "reading a community by a malformed id": (
        lambda w: ("GET", "/communities/not-an-id/members", None),
        422,
        "invalid-input",
        "'not-an-id'",
    ),
    "a malformed date in the query": (
        lambda w: ("GET", f"/communities/{w.community_id}/members?as_of=2024-13-01", None),
        422,
        "invalid-date",
        "as_of must be a calendar date written YYYY-MM-DD (or as 2024-3-15",
    ),
    "a known-at time that is not one": (
        lambda w: ("GET", f"/communities/{w.community_id}/members?known_at=昨天", None),
        422,
        "invalid-date",
        "known-at time must be a timestamp",
    ),
    "a body that is not JSON": (
        lambda w: ("POST", "/units", b"{not json"),
        422,
        "invalid-input",
        "not valid JSON",
    ),
    "an empty body": (lambda w: ("POST", "/units", b""), 422, "invalid-input", "needs a JSON body"),
}


def test_query_dates_are_read_as_people_write_them(shared_world) -> None:
    path = f"/communities/{shared_world.community_id}/members"
    written = shared_world.api.get(f"{path}?as_of=2025-06-30&known_at=2030-01-01")
    assert written["members"], "the shared world has members on 2025-06-30"
    for query in ("as_of=2025-6-30&known_at=2030-1-1", "as_of=2025年6月30日&known_at=2030/1/1"):
        assert shared_world.api.get(f"{path}?{query}") == written, query


@pytest.mark.parametrize("what", list(ERRORS))
def test_an_error_is_a_problem_that_says_what_is_wrong_and_writes_nothing(
    shared_world, what
) -> None:
    world = shared_world
    make, status, kind, detail = ERRORS[what]
    method, path, body = make(world)
    before = world.api.position()
    if isinstance(body, bytes):
        response = world.api.request(method, path, content=body)
    else:
        response = world.api.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:chanjiao:problem:{kind}"
    assert problem["title"]
    assert detail in problem["detail"], problem["detail"]
    assert problem["instance"] == path.split("?")[0]
    assert world.api.position() == before


def test_the_detail_of_a_bad_check_character_names_the_right_one(shared_world) -> None:
    world = shared_world
    good = credit_code(5)
    bad = wrong_check(good)
    problem = world.api.request("POST", "/units", json=_unit_body(world, code=bad)).json()
    assert f"check character should be '{good[-1]}', got '{bad[-1]}'" in problem["detail"]


# --- principals and read-your-writes -------------------------------------------------


def test_every_event_recorded_through_the_api_names_the_token_that_caused_it(world, caller) -> None:
    secretary = caller("secretary", world.community_id, name="李秘书")
    world.api.post(
        f"/communities/{world.community_id}/members/{world.unit_ids[1]}/role",
        {"role": "lead", "effective_on": "2025-01-01"},
        200,
        caller=secretary,
    )
    registered = world.api.request(
        "POST", "/units", caller=secretary, json=_unit_body(world)
    ).json()["id"]
    seen = []
    for kind, ids in (
        ("units", [*world.unit_ids, registered]),
        ("communities", [world.community_id]),
        ("agreements", [world.agreement_id]),
    ):
        for i in ids:
            seen += world.api.get(f"/{kind}/{i}/history")["events"]
    by_secretary = [e for e in seen if e["principal"] == secretary.principal]
    assert [e["type"] for e in by_secretary] == [
        "chanjiao.unit.registered.v1",
        "chanjiao.community.member_role_changed.v1",
    ]
    assert secretary.principal == f"api:李秘书 ({secretary.id})"
    rest = [e for e in seen if e not in by_secretary]
    assert len(rest) == 3 + 7 + 5  # the units, the body (a filing, a figure), the agreement
    assert {e["principal"] for e in rest} == {f"api:ops ({world.admin.id})"}


def test_an_admission_is_in_the_very_next_member_list(world) -> None:
    path = f"/communities/{world.community_id}/members"
    for i in range(3):
        unit = world.register(division="310110")
        world.api.post(path, {"unit_id": unit["id"], "effective_on": date.today().isoformat()})
        members = world.api.get(path)["members"]
        assert unit["id"] in [m["unit_id"] for m in members]
        assert len(members) == 4 + i
        assert world.api.get(f"/units/{unit['id']}")["memberships"][0]["community_id"] == (
            world.community_id
        )


# --- the app's lifespan -------------------------------------------------------------


def test_no_read_of_the_ledger_outlives_the_apps_lifespan(ledger) -> None:
    """The ledger is closed as soon as the app stops (``create_app(url=…)`` does so
    itself): a read still running then would use closed connections — on SQLite,
    a crash of the whole process."""
    reading, done = threading.Event(), threading.Event()
    with serving(ledger) as (app, client):
        hub = app.state.hub
        page = hub.encoder.page

        def slow_page(*args: Any) -> Any:
            reading.set()
            time.sleep(0.5)
            try:
                return page(*args)
            finally:
                done.set()

        hub.encoder.page = slow_page
        hub._subscribers += 1  # as if someone followed the stream: the hub reads new events
        api = Api(app, client, issue(app, "admin"))
        api.post(
            "/units",
            {"code": credit_code(1), "name": "甲", "type": "enterprise", "division": "320506"},
        )  # wakes the hub, which reads it
        assert reading.wait(5)
    assert done.is_set(), "the app stopped while the hub was still reading the ledger"


def test_the_app_stops_even_when_woken_as_it_stops(ledger) -> None:
    """A save or a NOTIFY that wakes the event hub in the very loop turn the app is
    stopped must not keep it running (Python 3.11's asyncio.wait_for swallows a
    cancellation that arrives as what it waits for completes)."""
    hub = Hub(Encoder(ledger), poll=10.0, heartbeat=15.0)

    async def woken_as_stopped() -> None:
        await hub.start()
        await asyncio.sleep(0.05)  # the hub now waits to be woken
        hub._kick.set()  # what hub.wake() does from the loop: the same loop turn as stop
        await asyncio.wait_for(hub.stop(), 5)

    asyncio.run(woken_as_stopped())
