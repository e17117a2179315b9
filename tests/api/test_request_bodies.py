"""A request body is read as the command line reads its words: dates as people write
them, and a refusal in the command line's sentences (the field named, the rule named),
with nothing recorded."""

from __future__ import annotations


def refused(api, path: str, body: dict) -> str:
    before = api.position()
    problem = api.post(path, body, status=422)
    assert api.position() == before
    return problem["detail"]


def test_a_date_is_read_in_the_forms_people_write(world):
    api = world.api
    unit = api.post(
        "/units",
        {
            "code": world.next_code(),
            "name": "苏州某研究院",
            "type": "科研院所",
            "division": "320506",
        },
    )
    api.post(
        f"/units/{unit['id']}/rename",
        {"name": "苏州某新材料研究院", "effective_on": "2024年3月5日"},
        status=200,
    )
    shown = api.get(f"/units/{unit['id']}")
    assert shown["name"] == "苏州某新材料研究院"
    events = world.api.get(f"/units/{unit['id']}/history")["events"]
    assert events[-1]["effective_on"] == "2024-03-05"


def test_a_date_that_cannot_be_read_is_refused_like_on_the_command_line(world):
    detail = refused(
        world.api,
        f"/communities/{world.community_id}/members",
        {"unit_id": world.unit_ids[0], "effective_on": "2024-13-01"},
    )
    assert detail.startswith("effective_on must be a calendar date written YYYY-MM-DD")
    assert detail.endswith("got '2024-13-01'")


def test_a_missing_an_unknown_and_a_mistyped_field_are_named(world):
    api = world.api
    detail = refused(
        api, "/units", {"code": world.next_code(), "type": "企业", "division": "320506"}
    )
    assert detail == "the request body needs name; nothing was recorded"
    detail = refused(
        api,
        "/units",
        {"code": world.next_code(), "name": "x", "type": "企业", "division": "320506", "city": 1},
    )
    assert detail.startswith("the request body has city, which this request does not take;")
    assert "it takes code, name, type, level, division" in detail
    detail = refused(
        api, "/units", {"code": world.next_code(), "name": 5, "type": "企业", "division": "320506"}
    )
    assert detail == "name must be text, not a whole number; got 5"
