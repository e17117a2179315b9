"""``/openapi.json`` and ``/asyncapi.json``, generated from the endpoint list and
the same msgspec Structs the endpoints decode and encode with."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from api import bodies as b
from api.endpoint import Endpoint
from api.events import CloudEvent, event_types, schemas
from api.problems import Problem

VERSION = "0.1.0"
REF = "#/components/schemas/{name}"
_ERRORS = {
    "401": "no token, or an unknown or revoked one",
    "403": "the token's role or communities do not allow this",
    "404": "no such unit, community, agreement, …",
    "409": "refused by the ledger's current state; nothing was recorded",
    "422": "invalid input; nothing was recorded",
}


def openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    shapes: list[Any] = [Problem, b.EventsQuery, b.StreamQuery]
    for e in endpoints:
        shapes += [t for t in (e.body, e.query, e.answer) if t is not None]
    refs, components = msgspec.json.schema_components(shapes, ref_template=REF)
    _closed_tuples_by_length(components)
    ref = dict(zip(map(_key, shapes), refs, strict=False))
    paths: dict[str, Any] = {}
    for e in endpoints:
        op: dict[str, Any] = {
            "summary": e.summary,
            "operationId": _operation_id(e),
            "parameters": _path_params(e.path) + _query_params(e.query, components),
            "responses": {
                str(e.status): {
                    "description": e.summary,
                    "content": {e.media: {"schema": ref[_key(e.answer)]}},
                },
                **{code: _problem(text) for code, text in _ERRORS.items()},
            },
            "x-access": e.access.value,
        }
        if e.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref[_key(e.body)]}},
            }
        if e.method == "POST":
            op["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "a retry with the same key and body returns the first answer",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                }
            )
        paths.setdefault(e.path, {})[e.method.lower()] = op
    paths.update(_event_paths(components))
    paths["/healthz"] = {
        "get": {
            "summary": "200 once the server is ready",
            "security": [],
            "operationId": "healthz",
            "responses": {"200": {"description": "ready"}},
        }
    }
    (envelope,), envelopes = msgspec.json.schema_components([CloudEvent], ref_template=REF)
    components.update(envelopes)
    return {
        "openapi": "3.1.0",
        "webhooks": {"event": _webhook(envelope)},
        "info": {
            "title": "chanjiao",
            "version": VERSION,
            "description": "Membership and governance ledger for industry–education "
            "communities. Money travels as decimal strings of yuan; shares as basis "
            "points.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _closed_tuples_by_length(schema: Any) -> None:
    """msgspec closes a fixed-length tuple's schema with ``"items": false`` beside its
    ``maxItems``. Both say the same, and the boolean schema is valid JSON Schema, but
    code generators for OpenAPI (openapi-python-client among them) refuse a boolean
    where they expect a schema object: keep ``maxItems`` alone."""
    if isinstance(schema, dict):
        prefix = schema.get("prefixItems")
        if schema.get("items") is False and prefix and schema.get("maxItems") == len(prefix):
            del schema["items"]
        for value in schema.values():
            _closed_tuples_by_length(value)
    elif isinstance(schema, list):
        for value in schema:
            _closed_tuples_by_length(value)


def _webhook(envelope: dict[str, Any]) -> dict[str, Any]:
    """What ``chanjiao webhook add`` sends each endpoint (ADR 0031)."""
    header = {"in": "header", "required": True, "schema": {"type": "string"}}
    return {
        "post": {
            "summary": "one recorded event, signed per Standard Webhooks",
            "operationId": "webhook_event",
            "security": [],
            "parameters": [
                {**header, "name": "webhook-id", "description": "the event's position"},
                {**header, "name": "webhook-timestamp", "description": "Unix seconds"},
                {
                    **header,
                    "name": "webhook-signature",
                    "description": "v1, and the base64 HMAC-SHA256 of id.timestamp.body",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/cloudevents+json": {"schema": envelope}},
            },
            "responses": {
                "2XX": {"description": "received; anything else, or no answer, is retried"}
            },
        }
    }


def _key(shape: Any) -> str:
    return repr(shape)


def _operation_id(e: Endpoint) -> str:
    words = re.sub(r"[{}]", "", e.path).strip("/").replace("/", "_")
    return f"{e.method.lower()}_{words}"


def _problem(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(name="Problem")}}},
    }


def _path_params(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def _query_params(shape: Any, components: dict[str, Any]) -> list[dict[str, Any]]:
    if shape is None:
        return []
    schema = components[shape.__name__]
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _event_paths(components: dict[str, Any]) -> dict[str, Any]:
    params = _query_params(b.EventsQuery, components)
    stream_params = [
        *_query_params(b.StreamQuery, components),
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        },
    ]
    errors = {
        code: _problem(text) for code, text in _ERRORS.items() if code in ("401", "403", "422")
    }
    return {
        "/events": {
            "get": {
                "summary": "recorded events after a position, as a CloudEvents batch",
                "operationId": "get_events",
                "parameters": params,
                "x-access": "events",
                "responses": {
                    "200": {
                        "description": "CloudEvents 1.0, structured JSON, in order",
                        "content": {
                            "application/cloudevents-batch+json": {
                                "schema": {"type": "array", "items": {"type": "object"}}
                            }
                        },
                    },
                    **errors,
                },
            }
        },
        "/events/stream": {
            "get": {
                "summary": "server-sent events: what was missed, then live",
                "operationId": "get_events_stream",
                "parameters": stream_params,
                "x-access": "events",
                "responses": {
                    "200": {
                        "description": "text/event-stream; id: position",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **errors,
                },
            }
        },
        "/events/schemas/{type}": {
            "get": {
                "summary": "the JSON Schema of one event type's data (each event's dataschema)",
                "operationId": "get_events_schemas_type",
                "x-access": "events",
                "parameters": [
                    {"name": "type", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "JSON Schema",
                        "content": {"application/schema+json": {"schema": {"type": "object"}}},
                    },
                    **errors,
                    "404": _problem("no such event type"),
                },
            }
        },
        "/events/schemas": {
            "get": {
                "summary": "the JSON Schema of every event type's data",
                "operationId": "get_events_schemas",
                "x-access": "events",
                "responses": {
                    "200": {
                        "description": "JSON Schema",
                        "content": {"application/schema+json": {"schema": {"type": "object"}}},
                    },
                    **errors,
                },
            }
        },
    }


NATS_HEADERS = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "the event's position: JetStream's duplicate window drops a re-send",
        },
        "content-type": {"const": "application/cloudevents+json"},
        "Chanjiao-Community": {
            "type": "string",
            "format": "uuid",
            "description": "the community the event concerns (absent for units' events)",
        },
    },
    "required": ["Nats-Msg-Id", "content-type"],
}


def asyncapi() -> dict[str, Any]:
    """The ledger's events for integrators, AsyncAPI 3.0: the server-sent event stream of
    ``chanjiao serve``, and the NATS JetStream stream that ``chanjiao relay nats`` fills
    (a channel per event type, its subject)."""
    every = schemas(REF)
    (envelope,), envelopes = msgspec.json.schema_components([CloudEvent], ref_template=REF)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {
        "events": {
            "address": "/events/stream",
            "servers": [{"$ref": "#/servers/http"}],
            "description": "server-sent events: id: the position, event: the type, data: the "
            "CloudEvent; resume with Last-Event-ID",
            "messages": {},
        }
    }
    operations: dict[str, Any] = {
        "receiveEvents": {"action": "receive", "channel": {"$ref": "#/channels/events"}}
    }
    for t in event_types():
        name = _message_name(t)
        payload = {
            "allOf": [envelope, {"properties": {"type": {"const": t}, "data": every["types"][t]}}]
        }
        messages[name] = {
            "name": t,
            "title": t,
            "contentType": "application/json",
            "payload": payload,
        }
        messages[f"nats_{name}"] = {
            "name": t,
            "title": f"{t} on NATS",
            "contentType": "application/cloudevents+json",
            "headers": NATS_HEADERS,
            "payload": payload,
        }
        channels["events"]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        channels[f"nats_{name}"] = {
            "address": t,
            "servers": [{"$ref": "#/servers/nats"}],
            "description": f"subject {t}; with --subject-prefix P, the leading chanjiao is P",
            "messages": {name: {"$ref": f"#/components/messages/nats_{name}"}},
        }
        operations[f"receive_{name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/nats_{name}"},
            "messages": [{"$ref": f"#/channels/nats_{name}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "chanjiao event stream",
            "version": VERSION,
            "description": "Every recorded event, as a CloudEvent 1.0 whose id is its "
            "position (strictly increasing in commit order). GET /events/stream is "
            "server-sent events (id: position, event: type, data: the CloudEvent; resume "
            "with Last-Event-ID); GET /events is the same as a CloudEvents batch. "
            "chanjiao relay nats publishes each event once, in position order, to the "
            "JetStream stream CHANJIAO (subjects chanjiao.>), on the subject that is its "
            "type, with Nats-Msg-Id = its position.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "http": {
                "host": "127.0.0.1:8000",
                "protocol": "http",
                "description": "chanjiao serve (CHANJIAO_PUBLIC_URL where it is published); "
                "a bearer token with the integrator, auditor or admin role",
            },
            "nats": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "the NATS server chanjiao relay nats publishes to (--url); "
                "JetStream stream CHANJIAO (--stream), subjects chanjiao.> (--subject-prefix)",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {**envelopes, **every["$defs"]}},
    }


def _message_name(topic: str) -> str:
    return topic.removeprefix("chanjiao.").replace(".", "_")
