"""Fuzzing the value-object parsers, the request decoders and sequences of API calls
(issue 8, scenario 5): whatever comes in, the answer is a value or a refusal in the
user's terms (``InvalidInput`` / a 4xx), never a crash. A crash found here is kept
below as a regression example."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from datetime import date
from enum import Enum
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error

from api.bodies import Body
from api.endpoint import decode_body
from api.resources import ENDPOINTS
from application import commands
from domain import values
from domain.errors import LedgerError
from tests.api.test_schemathesis import seeded, use_real_ids  # noqa: F401 (a fixture)

# Anything a caller could hand a parser: text of every kind (control characters,
# surrogates escaped, scripts mixed), numbers far out of range, and wrong types.
ANYTHING = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.text(), max_size=3),
    st.binary(max_size=20),
    st.dates(),
)

PARSERS: list[tuple[str, Any]] = [
    ("credit code", values.parse_credit_code),
    ("division", values.parse_division),
    ("yuan", values.parse_yuan),
    ("yuan, negative allowed", lambda v: values.parse_yuan(v, allow_negative=True)),
    ("basis points", values.parse_bp),
    ("date", values.parse_date),
    ("timestamp", values.parse_timestamp),
    ("text", lambda v: values.parse_text(v, "name")),
    ("unit type", lambda v: values.parse_choice(values.UnitType, v, "unit type")),
    ("level", lambda v: values.parse_level(values.UnitType.VOCATIONAL_SCHOOL, v)),
    ("unit reference", commands.unit_ref),
    ("uuid", lambda v: commands.as_uuid(v, "id")),
    ("effective date", commands.effective),
    ("resolution number", commands.resolution_number),
    ("principal", commands.principal_name),
]


@pytest.mark.parametrize(("name", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
@settings(max_examples=300, deadline=None, database=None)
@given(value=ANYTHING)
@example(value="\x00")
@example(value="9" * 5000)
@example(value="1e999999")
@example(value="\ud800")
@example(value=date.max)
def test_a_parser_answers_a_value_or_a_refusal_never_a_crash(name, parse, value):
    try:
        parse(value)
    except LedgerError as refusal:
        assert str(refusal), f"{name}: a refusal must say why"


BODIES = sorted({e.body for e in ENDPOINTS if e.body is not None}, key=lambda b: b.__name__)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=12,
)


def _field_values(shape: type[Body]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the shape's own field names (so decoding gets past the names into
    the values), each holding any JSON value."""
    names = [f.encode_name for f in msgspec.structs.fields(shape)]
    return st.dictionaries(st.sampled_from(names), JSON_VALUES, max_size=len(names))


@pytest.mark.parametrize("shape", BODIES, ids=lambda b: b.__name__)
@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_a_request_decoder_answers_a_body_or_a_refusal_never_a_crash(shape, data):
    raw = data.draw(
        st.one_of(
            st.binary(max_size=200),
            JSON_VALUES.map(msgspec.json.encode),
            _field_values(shape).map(msgspec.json.encode),
        )
    )
    try:
        decoded = decode_body(raw, shape)
    except LedgerError as refusal:
        assert str(refusal)
    else:
        assert isinstance(decoded, shape)


def test_every_choice_parser_names_the_allowed_values():
    for enum in (values.UnitType, values.CommunityKind, values.Role, values.ExitReason):
        assert issubclass(enum, Enum)
        listed = ", ".join(f"{m.value} ({values.chinese_name(m)})" for m in enum)
        with pytest.raises(LedgerError, match=re.escape(listed)):
            values.parse_choice(enum, "no such thing", "x")


def test_sequences_of_generated_calls_never_get_a_server_error(seeded):
    """Schemathesis in stateful mode: calls chained by the links it infers from the
    OpenAPI document (a community created, then its members, its council, its
    agreements…), as an admin, on a seeded ledger. The infinite stream is left out."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", seeded.app).exclude(
        path="/events/stream"
    )
    headers = {"Authorization": f"Bearer {seeded.token}"}
    calls: Counter = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            use_real_ids(case, seeded.ids)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            calls[response.status_code // 100] += 1
            case.validate_response(response, checks=[not_a_server_error])

    # Generation only: the calls change the ledger, so a replayed or shrunk sequence
    # would not draw the same data. Even so, hypothesis may meet a sequence it has begun
    # before whose links now lead elsewhere (a bundle filled by the ledger's earlier
    # answers) and stop with FlakyStrategyDefinition: that says nothing about the server,
    # so it ends the run early rather than failing it. Every 5xx is counted before it is
    # checked, so one met in any sequence still fails below.
    with contextlib.suppress(FlakyStrategyDefinition):
        run_state_machine_as_test(
            Workflow,
            settings=settings(
                max_examples=25,
                stateful_step_count=8,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    print(
        f"\nstateful fuzzing: {sum(calls.values())} calls, "
        f"{calls[2]} 2xx, {calls[4]} 4xx, {calls[5]} 5xx"
    )
    assert calls[5] == 0 and calls[2] > 0
