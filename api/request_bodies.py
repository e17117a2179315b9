"""Request bodies read as the command line reads its words: dates in the forms people
write (``2024-3-15``), and a refusal in the command line's sentences — the field named,
the rule named — rather than the JSON parser's ("Invalid RFC3339 encoded date - at
`$.effective_on`")."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import inspect as mi

from application.messages import Shape, fields
from domain.errors import InvalidInput
from domain.values import parse_date

_decoders: dict[type, msgspec.json.Decoder[Any]] = {}
_untyped = msgspec.json.Decoder()
_AT = re.compile(r" - at `\$\.([A-Za-z_][A-Za-z0-9_]*)(.*)`$")
_KINDS = {
    "str": "text",
    "int": "a whole number",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
    "float": "a number",
}


def decode_body(raw: bytes, shape: type[Shape]) -> Any:
    decoder = _decoders.get(shape)
    if decoder is None:
        decoder = _decoders[shape] = msgspec.json.Decoder(shape)
    if not raw.strip():
        raise InvalidInput("the request needs a JSON body")
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError:
        pass  # read again below, to read dates leniently or to say what is wrong
    except msgspec.DecodeError as e:
        raise InvalidInput(f"the request body is not valid JSON: {e}") from None
    try:  # the typed decoder may refuse a wrong type before it meets broken JSON
        data = _untyped.decode(raw)
    except msgspec.DecodeError as e:
        raise InvalidInput(f"the request body is not valid JSON: {e}") from None
    if isinstance(data, dict):
        _read_dates(data, shape)
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as e:
        raise InvalidInput(sentence(str(e), data, shape)) from None


def decode_query(params: dict[str, str], shape: type[Shape]) -> Any:
    """A query string read as a request body is: dates as people write them, and a
    refusal that names the parameter."""
    data: dict[str, Any] = dict(params)
    _read_dates(data, shape)
    try:
        return msgspec.convert(data, shape, strict=False)
    except msgspec.ValidationError as e:
        raise InvalidInput(sentence(str(e), data, shape, "query string")) from None


def _read_dates(data: dict[str, Any], shape: type[Shape]) -> None:
    """Dates written as people write them, as ``YYYY-MM-DD``; a date that cannot be
    read is refused in the command line's words."""
    for field in fields(shape):
        value = data.get(field.json_name)
        if isinstance(field.kind, mi.DateType) and isinstance(value, str):
            data[field.json_name] = parse_date(value, field.json_name).isoformat()


def sentence(error: str, data: Any, shape: type[Shape], where: str = "request body") -> str:
    """msgspec's validation ``error`` as a sentence about the field it concerns, in
    the request ``where`` (its body or its query string)."""
    known = {f.json_name: f for f in fields(shape)}
    missing = re.match(r"Object missing required field `([^`]+)`(.*)", error)
    if missing and not missing.group(2):
        field = known.get(missing.group(1))
        what = f" ({field.description})" if field and field.description else ""
        done = "; nothing was recorded" if where == "request body" else ""
        return f"the {where} needs {missing.group(1)}{what}{done}"
    unknown = re.match(r"Object contains unknown field `([^`]+)`(.*)", error)
    if unknown and not unknown.group(2):
        listed = ", ".join(known)
        return (
            f"the {where} has {unknown.group(1)}, which this request does not take; "
            f"it takes {listed}"
        )
    at = _AT.search(error)
    if at and not at.group(2) and isinstance(data, dict):
        name, problem = at.group(1), error[: at.start()]
        expected = re.match(r"Expected `([^`]+)`, got `([^`]+)`", problem)
        if expected:
            want = " or ".join(_KINDS.get(k, k) for k in expected.group(1).split(" | "))
            got = _KINDS.get(expected.group(2), expected.group(2))
            return f"{name} must be {want}, not {got}; got {data.get(name)!r}"
        return f"{name}: {problem[0].lower()}{problem[1:]}; got {data.get(name)!r}"
    return f"{where}: {error}"
