"""What the HTTP API tests share: tokens of every role, a client that speaks the
API, and a small realistic ledger recorded through the API itself."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.app import create_app
from bootstrap import Ledger
from tests.factories import credit_code

CHINA = ZoneInfo("Asia/Shanghai")
PROBLEM = "application/problem+json"


def today_in_china() -> date:
    return datetime.now(CHINA).date()


# --- callers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """A token as the API sees it: the secret, and who it names."""

    token: str
    id: str
    name: str
    role: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def principal(self) -> str:
        """What every event this caller records must carry (api.md, Access)."""
        return f"api:{self.name} ({self.id})"


def issue(app: Starlette, role: str, *communities: Any, name: str | None = None) -> Caller:
    tokens = app.state.service.tokens
    name = name or f"{role}-{uuid.uuid4().hex[:6]}"
    issued = tokens.issue(
        role=role, name=name, communities=[str(c) for c in communities], issued_by="tests"
    )
    return Caller(issued.token, issued.info.id, issued.info.name, issued.info.role)


class Api:
    """A TestClient speaking for one caller (another one per request if given)."""

    def __init__(self, app: Starlette, client: TestClient, caller: Caller) -> None:
        self.app = app
        self.client = client
        self.caller = caller

    @property
    def ledger(self) -> Ledger:
        return self.app.state.service.ledger

    def position(self) -> int:
        """The ledger's last position: unchanged means nothing was recorded."""
        return self.ledger.recorder.max_notification_id() or 0

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        caller: Caller | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        sent = {**(caller or self.caller).headers, **(headers or {})}
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
            return self.client.request(method, path, content=content, params=params, headers=sent)
        return self.client.request(method, path, json=json, params=params, headers=sent)

    def post(self, path: str, body: Any, status: int = 201, **kw: Any) -> Any:
        response = self.request("POST", path, json=body, **kw)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json()

    def get(self, path: str, status: int = 200, **params: Any) -> Any:
        response = self.request("GET", path, params=params or None)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json()


# --- the sample ledger ------------------------------------------------------------

FOUNDED_ON = "2024-01-10"
ADMITTED_ON = "2024-01-15"
SEATED_ON = "2024-02-01"
DRAFTED_ON = "2024-02-20"
MEETING_ON = "2024-03-01"

UNITS = [  # (serial, name, type, level, division)
    (1, "苏州工业园区智能装备有限公司", "enterprise", None, "320506"),
    (2, "苏州工业园区职业技术学院", "vocational_school", "higher", "320506"),
    (3, "上海交通大学", "university", None, "310110"),
]
SHARES = [(5000, 4000), (3000, 3000), (2000, 3000)]


@dataclass
class World:
    """Three units (two in Jiangsu, one in Shanghai), a city body in Suzhou founded
    2024-01-10 that admitted all three on 2024-01-15 and adopted its founding charter,
    a council of three seats, a meeting on 2024-03-01 that adopted an `agreement`
    resolution, and an agreement approved by it with a contribution of 100000.00, a
    cost of 1234.50 and a benefit of 300.01 — every event recorded by ``admin``."""

    api: Api
    admin: Caller
    units: list[dict[str, Any]]
    community: dict[str, Any]
    meeting: dict[str, Any]
    resolution: dict[str, Any]
    agreement: dict[str, Any]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    filings: dict[str, Any] = field(default_factory=dict)  # its product list for 2025
    indicators: dict[str, Any] = field(default_factory=dict)  # a member's order classes, 2024
    serial: int = 100

    @property
    def community_id(self) -> str:
        return self.community["id"]

    @property
    def agreement_id(self) -> str:
        return self.agreement["id"]

    @property
    def unit_ids(self) -> list[str]:
        return [u["id"] for u in self.units]

    def next_code(self, division: str = "320506") -> str:
        """A valid credit code no one has registered yet."""
        self.serial += 1
        return credit_code(self.serial, division=division)

    def register(self, division: str = "320506", type_: str = "enterprise") -> dict[str, Any]:
        code = self.next_code(division)
        return self.api.post(
            "/units",
            {"code": code, "name": f"新单位{code[-5:]}", "type": type_, "division": division},
        )

    def adopted(self, matter: str, held_on: str, title: str = "决议") -> str:
        """A meeting of every seat on ``held_on`` adopting a resolution on ``matter``;
        its register number."""
        c = self.community_id
        meeting = self.api.post(
            f"/communities/{c}/council/meetings", {"held_on": held_on, "present": self.unit_ids}
        )
        answer = self.api.post(
            f"/communities/{c}/council/resolutions",
            {
                "meeting_id": meeting["meeting_id"],
                "matter": matter,
                "title": title,
                "votes": {"for": 3, "against": 0, "abstain": 0},
            },
        )
        assert answer["outcome"] == "adopted", answer
        return answer["number"]

    def end_agreement(self, on: str) -> None:
        """Terminate the world's agreement effective ``on``."""
        self.api.post(
            f"/agreements/{self.agreement_id}/terminate",
            {"effective_on": on, "resolution": self.adopted("agreement", "2025-06-01")},
            200,
        )


PRODUCTS = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
"""The SHA-256 of the world's 2025 product list."""


def build_world(api: Api) -> World:
    units = [
        api.post(
            "/units",
            {
                "code": credit_code(serial, division=division),
                "name": name,
                "type": type_,
                "level": level,
                "division": division,
            },
        )
        for serial, name, type_, level, division in UNITS
    ]
    community = api.post(
        "/communities",
        {
            "name": "苏州工业园区市域产教联合体",
            "kind": "city",
            "industry": "电子信息与智能制造",
            "division": "320506",
            "founded_on": FOUNDED_ON,
        },
    )
    c = community["id"]
    for unit in units:
        api.post(
            f"/communities/{c}/members",
            {"unit_id": unit["id"], "role": "participant", "effective_on": ADMITTED_ON},
        )
    api.post(f"/communities/{c}/charter", {"version": "1.0", "effective_on": ADMITTED_ON})
    for i, unit in enumerate(units):
        api.post(
            f"/communities/{c}/council/seats",
            {
                "unit_id": unit["id"],
                "representative": f"代表{i}",
                "office": "chair" if i == 0 else "director",
                "effective_on": SEATED_ON,
            },
        )
    meeting = api.post(
        f"/communities/{c}/council/meetings",
        {"held_on": MEETING_ON, "present": [u["id"] for u in units]},
    )
    resolution = api.post(
        f"/communities/{c}/council/resolutions",
        {
            "meeting_id": meeting["meeting_id"],
            "matter": "agreement",
            "title": "批准共享实训基地共建协议",
            "votes": {"for": 3, "against": 0, "abstain": 0},
        },
    )
    assert resolution["outcome"] == "adopted", resolution
    agreement = api.post(
        f"/communities/{c}/agreements",
        {
            "title": "共享实训基地",
            "kind": "training_base",
            "drafted_on": DRAFTED_ON,
            "parties": [
                {"unit_id": u["id"], "cost_share_bp": cost, "benefit_share_bp": benefit}
                for u, (cost, benefit) in zip(units, SHARES, strict=False)
            ],
        },
    )
    a = agreement["id"]
    agreement = api.post(f"/agreements/{a}/approve", {"resolution": resolution["number"]}, 200)
    world = World(api, api.caller, units, community, meeting, resolution, agreement)
    world.entries["contribution"] = api.post(
        f"/agreements/{a}/contributions",
        {
            "unit_id": units[0]["id"],
            "kind": "funds",
            "amount": "100000.00",
            "contributed_on": "2024-04-01",
            "description": "园区专项：实训基地启动资金",
        },
    )
    world.entries["cost"] = api.post(
        f"/agreements/{a}/costs",
        {"amount": "1234.50", "incurred_on": "2024-04-15", "description": "耗材"},
    )
    world.entries["benefit"] = api.post(
        f"/agreements/{a}/benefits",
        {"amount": "300.01", "realized_on": "2024-05-01", "description": "培训收入"},
    )
    world.filings = api.post(
        f"/communities/{community['id']}/filings",
        {
            "kind": "product_list",
            "year": 2025,
            "filed_on": "2025-12-01",
            "title": "2025 年核心产品清单",
            "sha256": PRODUCTS,
            "size": 4096,
            "resolution": resolution["number"],
        },
    )
    world.indicators = api.post(
        f"/communities/{community['id']}/indicators",
        {
            "indicator": "students_order_classes",
            "year": 2024,
            "value": 45,
            "unit_id": units[0]["id"],
            "evidence_sha256": PRODUCTS,
        },
    )
    return world


# --- the app on the test's own store -----------------------------------------------


@contextlib.contextmanager
def serving(ledger: Ledger) -> Iterator[tuple[Starlette, TestClient]]:
    """The app on ``ledger``, its lifespan running for as long as the block."""
    app = create_app(ledger)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield app, client
