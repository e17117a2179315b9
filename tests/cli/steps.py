"""Steps several CLI test modules share: a body with a council, meetings, resolutions."""

from __future__ import annotations

import json

from tests.factories import credit_code

SEATS = [credit_code(500 + i) for i in range(6)]
NEWCOMER = credit_code(600)


def meeting(run, body: str, held_on: str, present: list[str]) -> int:
    code, out, err = run(
        "council",
        "meeting",
        "record",
        body,
        "--held-on",
        held_on,
        "--present",
        *present,
        "--format",
        "json",
    )
    assert code == 0, err
    return json.loads(out)["meeting"]


def resolve(run, body, number, matter, title, f, a=0, ab=0, *extra) -> tuple[int, dict | str]:
    code, out, err = run(
        "council",
        "resolution",
        "record",
        body,
        "--meeting",
        str(number),
        "--matter",
        matter,
        "--title",
        title,
        "--for",
        str(f),
        "--against",
        str(a),
        "--abstain",
        str(ab),
        *extra,
        "--format",
        "json",
    )
    return code, (json.loads(out) if code == 0 else err)


def council_body_in(ledger) -> object:
    """A city body founded 2024-01-01 whose six members (SEATS, admitted 2024-01-15)
    hold the council's seats from 2024-02-01; NEWCOMER is registered, not admitted.
    Recorded through the ledger directly: the setting is not what the CLI tests test."""
    for code in [*SEATS, NEWCOMER]:
        ledger.register_unit(
            code=code,
            name=f"单位{code[-4:]}",
            unit_type="enterprise",
            division="440305",
            principal="p",
        )
    body = ledger.found_community(
        name="深圳市域产教联合体",
        kind="city",
        industry="电子信息",
        division="440300",
        founded_on="2024-01-01",
        principal="p",
    ).id
    for i, code in enumerate(SEATS):
        ledger.admit_member(
            body, code, role="participant", effective_on="2024-01-15", principal="p"
        )
        ledger.assign_seat(
            body,
            code,
            representative=f"代表{i}",
            office="chair" if i == 0 else "director",
            effective_on="2024-02-01",
            principal="p",
        )
    return body
