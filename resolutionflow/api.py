"""API plumbing shared by every app: errors as 400s with field messages, never 500s."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from flows.structure import MAX_JSON_BYTES, StructureInvalid, parse_json
from resolutionflow.errors import ServiceError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every service refusal answers with its own status and body; Django's validation and
    permission errors keep their messages (DRF would drop a PermissionDenied's reason)."""
    if isinstance(exc, ServiceError):
        return Response(exc.payload(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


class BoundedJSONParser(JSONParser):
    """JSON bodies up to MAX_JSON_BYTES; hostile nesting is a 400, not a RecursionError 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(MAX_JSON_BYTES + 1) if stream is not None else b""
        try:
            return parse_json(raw or b"null")
        except StructureInvalid as invalid:
            raise ParseError(invalid.errors[0].message) from invalid
