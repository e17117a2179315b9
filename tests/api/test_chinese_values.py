"""Over HTTP the ledger reads a body's choices and amounts as it reads the command
line's words: Chinese names and amounts as people write them are recorded as their
English values and exact fen (dates: tests/api/test_request_bodies.py). Answers keep the
plain forms."""

from __future__ import annotations

from tests.api.support import issue


def test_a_body_may_name_its_choices_in_chinese_and_write_amounts_as_people_do(world):
    api = world.api
    code = world.next_code()
    unit = api.post(
        "/units",
        {
            "code": code,
            "name": "苏州某中等职业学校",
            "type": "职业学校",
            "level": "中职",
            "division": "320506",
        },
    )
    assert (unit["type"], unit["level"]) == ("vocational_school", "secondary")
    body = api.post(
        "/communities",
        {
            "name": "苏州新能源行业产教融合共同体",
            "kind": "行业产教融合共同体",
            "industry": "新能源",
            "division": "320506",
            "founded_on": "2024-03-15",
        },
    )
    assert body["kind"] == "industry"
    members = api.post(
        f"/communities/{body['id']}/members",
        {"unit_id": unit["id"], "role": "牵头单位", "effective_on": "2024-03-20"},
    )["members"]
    assert [(m["unit_id"], m["role"]) for m in members] == [(unit["id"], "lead")]

    answers = [
        api.post(
            f"/agreements/{world.agreement_id}/contributions",
            {
                "unit_id": world.unit_ids[0],
                "kind": kind,
                "amount": amount,
                "contributed_on": "2024-06-01",
                "description": "投入",
            },
        )
        for kind, amount in (("资金", "1,250,000.00"), ("设备", "12.5万"), ("技术", "800元"))
    ]
    assert [(a["kind"], a["amount"]) for a in answers] == [
        ("funds", "1250000.00"),
        ("equipment", "125000.00"),
        ("technology", "800.00"),
    ]


def test_a_choice_refused_over_http_names_the_chinese_choices(world):
    before = world.api.position()
    response = world.api.request(
        "POST",
        f"/agreements/{world.agreement_id}/contributions",
        json={
            "unit_id": world.unit_ids[0],
            "kind": "现金",
            "amount": "1,25,000",
            "contributed_on": "2024-06-01",
            "description": "投入",
        },
    )
    assert response.status_code == 422
    assert "contribution kind must be one of funds (资金), equipment (设备)" in response.text
    assert world.api.position() == before


def test_a_token_role_may_be_named_in_chinese(app, client):
    auditor = issue(app, "审计员")
    assert auditor.role == "auditor"
    assert client.get("/communities", headers=auditor.headers).status_code == 200
