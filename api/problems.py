"""Errors as RFC 9457 ``application/problem+json``, chosen by the error's class.

``type`` names the ledger's error (``urn:chanjiao:problem:not-a-member``), ``title``
its general meaning, ``detail`` the ledger's own sentence a secretary can act on."""

from __future__ import annotations

import logging
import re

import msgspec
from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import Response

from adapters.codec import to_json
from api.access import Forbidden
from api.tokens import TokenRequired
from domain.errors import Conflict, InvalidInput, LedgerError, NotFound

log = logging.getLogger("chanjiao.api")

MEDIA_TYPE = "application/problem+json"


class Problem(msgspec.Struct, frozen=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class BodyTooLarge(LedgerError):
    """A request body over ``MAX_BODY_BYTES``: refused before it is read whole."""


MAX_BODY_BYTES = 1 << 20


STATUS: list[tuple[type[Exception], int, str]] = [
    (BodyTooLarge, 413, "Content too large"),
    (TokenRequired, 401, "Authentication required"),
    (Forbidden, 403, "Forbidden"),
    (InvalidInput, 422, "Invalid input"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict with the ledger's current state"),
    (LedgerError, 422, "Invalid input"),
    (OperationalError, 503, "Store unavailable"),  # unreachable, restarting, locked, timed out
    (InterfaceError, 503, "Store unavailable"),
]

RETRY_AFTER_S = "1"
"""What a 503 tells clients to wait before retrying (with their Idempotency-Key)."""


def kind(error: Exception) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()


def problem(status: int, title: str, detail: str, type_: str, path: str | None) -> Response:
    body = Problem(f"urn:chanjiao:problem:{type_}", title, status, detail, path)
    headers = {
        401: {"WWW-Authenticate": 'Bearer realm="chanjiao"'},
        503: {"Retry-After": RETRY_AFTER_S},
    }.get(status)
    return Response(to_json(body), status, headers=headers, media_type=MEDIA_TYPE)


def for_error(error: Exception, path: str | None = None) -> Response:
    for cls, status, title in STATUS:
        if isinstance(error, cls):
            detail = str(error) or title
            if status == 503:
                log.warning("store unavailable: %s", str(error).strip())
                detail = (
                    "the ledger's database cannot be reached. Retry shortly with the same "
                    "Idempotency-Key: a command is never recorded twice"
                )
            return problem(status, title, detail, kind(error), path)
    log.exception("unexpected error", exc_info=error)
    return problem(
        500,
        "Internal error",
        "the server failed unexpectedly; the error was logged",
        "internal-error",
        path,
    )


async def handle(request: Request, error: Exception) -> Response:
    return for_error(error, request.url.path)
