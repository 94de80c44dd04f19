"""API plumbing shared by every app: errors as 400s with field messages, never 500s."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from flows.services import PublishRefused
from flows.structure import MAX_JSON_BYTES, StructureError, StructureInvalid, parse_json
from sessions.services import SessionClosed, SessionError


def structure_errors_payload(errors: list[StructureError]) -> list[dict[str, Any]]:
    return [{"node_id": e.node_id, "field": e.field, "message": e.message} for e in errors]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PublishRefused):
        return Response(
            {"detail": str(exc), "errors": structure_errors_payload(exc.errors)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, StructureInvalid):
        return Response(
            {
                "detail": "The flow structure is not valid.",
                "errors": structure_errors_payload(exc.errors),
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SessionClosed):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, SessionError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class BoundedJSONParser(JSONParser):
    """JSON bodies up to MAX_JSON_BYTES; hostile nesting is a 400, not a RecursionError 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(MAX_JSON_BYTES + 1) if stream is not None else b""
        try:
            return parse_json(raw or b"null")
        except StructureInvalid as invalid:
            raise ParseError(invalid.errors[0].message) from invalid
