"""Who may do what (api.md, Access): every route class against every role, a
secretary inside and outside its communities, and requests without a usable token."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from api.access import ALLOWED, SCOPED, Access
from api.resources import ENDPOINTS
from tests.api.support import PROBLEM, Api, Caller, World, issue

# api.md's Access table, read independently of api/access.py.
API_MD: dict[str, set[Access]] = {
    "admin": set(Access),  # everything
    # record and read for the communities named on its token only (units: register, read)
    "secretary": {Access.RECORD, Access.READ, Access.REPORT, Access.UNITS_WRITE, Access.UNITS_READ},
    # read everything, history, verification and export; write nothing
    "auditor": {
        Access.UNITS_READ,
        Access.READ,
        Access.REPORT,
        Access.EVENTS,
        Access.HISTORY,
        Access.AUDIT,
    },
    # read the event stream and the reports; write nothing; and (api.md, Additions)
    # read units, so that the ids in events can be resolved
    "integrator": {Access.EVENTS, Access.REPORT, Access.UNITS_READ},
}
ONLY_ITS_COMMUNITIES = {Access.RECORD, Access.READ, Access.REPORT}


# --- the routes tried: one or more per access class, and the public ones -------------


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # as declared
    access: Access | None  # None: public
    status: int  # on success
    scope: str = "none"  # ours: concerns the secretary's community; narrowed; none
    query: str = ""
    body: Callable[[World], Any] | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''}"

    def url(self, w: World) -> str:
        path = self.path.replace(
            "{id}",
            {
                "/units": w.unit_ids[0],
                "/communities": w.community_id,
                "/agreements": w.agreement_id,
            }.get("/" + self.path.split("/")[1], ""),
        )
        query = self.query.format(community=w.community_id)
        return f"{path}?{query}" if query else path


def _new_unit(w: World) -> dict[str, Any]:
    return {"code": w.next_code(), "name": "新单位", "type": "enterprise", "division": "320506"}


def _new_community(w: World) -> dict[str, Any]:
    return {
        "name": f"共同体{uuid.uuid4().hex[:4]}",
        "kind": "development",
        "industry": "物流",
        "division": "330200",
        "founded_on": "2024-06-01",
    }


PROBES = [
    Probe("POST", "/units", Access.UNITS_WRITE, 201, body=_new_unit),
    Probe("GET", "/units/{id}", Access.UNITS_READ, 200),
    Probe(
        "POST",
        "/units/{id}/rename",
        Access.UNITS_CHANGE,
        200,
        body=lambda w: {"name": f"更名{uuid.uuid4().hex[:4]}", "effective_on": "2025-01-01"},
    ),
    Probe(
        "POST",
        "/communities/{id}/council/meetings",
        Access.RECORD,
        201,
        "ours",
        # Every role records the same meeting: a repeat on purpose.
        body=lambda w: {"held_on": "2025-05-01", "present": w.unit_ids[:2], "again": True},
    ),
    Probe(
        "POST",
        "/agreements/{id}/costs",
        Access.RECORD,
        201,
        "ours",
        body=lambda w: {"amount": "1.00", "incurred_on": "2024-06-01", "description": "耗材"},
    ),
    Probe("POST", "/communities", Access.RECORD, 201, body=_new_community),
    Probe("GET", "/communities/{id}/members", Access.READ, 200, "ours"),
    Probe("GET", "/agreements/{id}", Access.READ, 200, "ours"),
    Probe("GET", "/agreements", Access.READ, 200, "ours", query="community_id={community}"),
    Probe("GET", "/agreements", Access.READ, 200),
    Probe("GET", "/communities", Access.READ, 200, "narrowed"),
    Probe("GET", "/agreements/{id}/report", Access.REPORT, 200, "ours"),
    Probe(
        "GET", "/reports/provinces", Access.REPORT, 200, "ours", query="community_id={community}"
    ),
    Probe("GET", "/reports/provinces", Access.REPORT, 200),
    Probe("GET", "/communities/{id}/investment", Access.REPORT, 200, "ours"),
    Probe("GET", "/events", Access.EVENTS, 200),
    Probe("GET", "/events/schemas", Access.EVENTS, 200),
    Probe("GET", "/communities/{id}/history", Access.HISTORY, 200),
    Probe("GET", "/agreements/{id}/history", Access.HISTORY, 200),
    Probe("GET", "/audit/verify", Access.AUDIT, 200),
    Probe("GET", "/healthz", None, 200),
    Probe("GET", "/openapi.json", None, 200),
    Probe("GET", "/asyncapi.json", None, 200),
]

# Who asks: a role's token, or no usable token at all.
ROLE_OF = {
    "admin": "admin",
    "secretary": "secretary",
    "secretary of another body": "secretary",
    "auditor": "auditor",
    "integrator": "integrator",
}
UNAUTHENTICATED = [
    "no token",
    "another scheme",
    "not a chanjiao token",
    "an unknown token",
    "a known id with a wrong secret",
    "a revoked token",
]
WHO = [*ROLE_OF, *UNAUTHENTICATED]


def expected(probe: Probe, who: str) -> int:
    if probe.access is None:
        return probe.status
    if who in UNAUTHENTICATED:
        return 401
    role = ROLE_OF[who]
    if probe.access not in API_MD[role]:
        return 403
    if role == "secretary" and probe.access in ONLY_ITS_COMMUNITIES:
        if probe.scope == "narrowed":
            return probe.status
        if probe.scope == "none" or who != "secretary":
            return 403
    return probe.status


@dataclass
class Matrix:
    world: World
    other_community: str
    callers: dict[str, Caller]
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def matrix(shared_world: World) -> Matrix:
    w = shared_world
    app = w.api.app
    other = w.api.post("/communities", _new_community(w))["id"]
    callers = {
        "admin": w.admin,
        "secretary": issue(app, "secretary", w.community_id, name="李秘书"),
        "secretary of another body": issue(app, "secretary", other, name="王秘书"),
        "auditor": issue(app, "auditor", name="审计"),
        "integrator": issue(app, "integrator", name="集成方"),
    }
    revoked = issue(app, "admin", name="离职管理员")
    app.state.service.tokens.revoke(revoked.id)
    headers = {who: c.headers for who, c in callers.items()}
    headers.update(
        {
            "no token": {},
            "another scheme": {"Authorization": "Basic " + "dXNlcjpwYXNz"},
            "not a chanjiao token": {"Authorization": "Bearer not-a-token"},
            "an unknown token": {
                "Authorization": f"Bearer cj_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
            },
            "a known id with a wrong secret": {
                "Authorization": f"Bearer cj_{w.admin.id}_{secrets.token_urlsafe(32)}"
            },
            "a revoked token": revoked.headers,
        }
    )
    return Matrix(w, other, callers, headers)


def send(m: Matrix, probe: Probe, headers: dict[str, str]) -> Any:
    body = probe.body(m.world) if probe.body else None
    return m.world.api.client.request(probe.method, probe.url(m.world), json=body, headers=headers)


# --- the tests ----------------------------------------------------------------------


def test_the_access_table_in_the_code_is_api_md_s() -> None:
    assert {role.value: set(classes) for role, classes in ALLOWED.items()} == API_MD
    assert set(SCOPED) == ONLY_ITS_COMMUNITIES


def test_every_access_class_is_tried_by_a_route_that_really_has_it() -> None:
    declared = {(e.method, e.path): e.access for e in ENDPOINTS}
    for probe in PROBES:
        if probe.path.startswith("/events"):
            assert probe.access is Access.EVENTS
        elif probe.access is not None:
            assert declared[(probe.method, probe.path)] is probe.access, probe.label
    assert {p.access for p in PROBES} == {*Access, None}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.label)
def test_each_caller_may_use_exactly_what_api_md_allows(matrix: Matrix, probe, who) -> None:
    before = matrix.world.api.position()
    response = send(matrix, probe, matrix.headers[who])
    status = expected(probe, who)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == status
        assert matrix.world.api.position() == before, "a refused request recorded something"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert "www-authenticate" not in response.headers
    if status < 400 and probe.method == "POST":
        assert matrix.world.api.position() > before


def test_a_secretary_lists_only_its_own_communities(matrix: Matrix) -> None:
    c = matrix.callers
    api: Api = matrix.world.api
    mine = api.request("GET", "/communities", caller=c["secretary"]).json()
    theirs = api.request("GET", "/communities", caller=c["secretary of another body"]).json()
    everything = api.request("GET", "/communities", caller=c["auditor"]).json()
    assert [b["id"] for b in mine] == [matrix.world.community_id]
    assert [b["id"] for b in theirs] == [matrix.other_community]
    assert {matrix.world.community_id, matrix.other_community} <= {b["id"] for b in everything}


def test_a_secretary_may_record_in_any_of_the_communities_on_its_token(matrix: Matrix) -> None:
    w = matrix.world
    both = issue(w.api.app, "secretary", w.community_id, matrix.other_community)
    for community in (w.community_id, matrix.other_community):
        response = w.api.request("GET", f"/communities/{community}/members", caller=both)
        assert response.status_code == 200, response.text
    elsewhere = w.api.post("/communities", _new_community(w))["id"]
    response = w.api.request("GET", f"/communities/{elsewhere}/members", caller=both)
    assert response.status_code == 403
    assert elsewhere in response.json()["detail"]


REFUSED_BEFORE_LOOKUP = [  # (role, method, path): a class the role never has, an unknown id
    ("auditor", "POST", "/agreements/{unknown}/costs"),
    ("integrator", "GET", "/agreements/{unknown}"),
    ("integrator", "GET", "/communities/{unknown}/members"),
    ("secretary", "GET", "/agreements/{unknown}/history"),
]


@pytest.mark.parametrize(("role", "method", "path"), REFUSED_BEFORE_LOOKUP)
def test_a_token_outside_its_rights_is_refused_whatever_the_id(matrix, role, method, path):
    """api.md: a known token outside its rights is a 403 — not a 404 that tells it
    whether the thing exists."""
    caller = matrix.callers[role]
    body = {"amount": "1.00", "incurred_on": "2024-06-01", "description": "x"}
    response = matrix.world.api.request(
        method,
        path.format(unknown=uuid.uuid4()),
        caller=caller,
        json=body if method == "POST" else None,
    )
    assert response.status_code == 403, response.text


def test_a_revoked_token_is_refused_from_the_next_request_on(matrix: Matrix) -> None:
    w = matrix.world
    caller = issue(w.api.app, "auditor")
    assert w.api.request("GET", "/events", caller=caller).status_code == 200
    w.api.app.state.service.tokens.revoke(caller.id)
    response = w.api.request("GET", "/events", caller=caller)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
