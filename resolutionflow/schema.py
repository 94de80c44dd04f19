"""The OpenAPI schema's shared parts: the one error body, and the error answers of every operation.

Every API answer that is not a success is JSON of one of two shapes (`resolutionflow.api`):
a refusal (`detail`, and from a service `code`, `errors` and sometimes `revision`), or DRF's field
errors (`{"field": ["message", …]}`, nested for nested fields). Both are the `Error` component.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import serializers

MESSAGES = {"type": "array", "items": {"type": "string"}}

REFUSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Refusal",
    "description": "Why the request was refused, in one sentence.",
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "description": "Set by a service refusal, e.g. `stale_revision`, `session_closed`, "
            "`publish_refused`, `invalid_structure`, `managed_by_source_flow`, `invalid_edit`.",
        },
        "errors": {
            "type": "array",
            "description": "Each problem: a flow's node and field, or a request field whose "
            "text cannot be stored.",
            "items": {
                "type": "object",
                "properties": {
                    "node_id": {"type": "string", "nullable": True},
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["message"],
            },
        },
        "revision": {
            "type": "integer",
            "description": "With `stale_revision`: the flow's current revision.",
        },
        "resolutions": {
            "type": "object",
            "description": "With `invalid_edit` (pull-parent): for each refused `edit` "
            "resolution, its conflict id → field → messages.",
            "additionalProperties": {"type": "object", "additionalProperties": MESSAGES},
        },
    },
    "required": ["detail"],
    "additionalProperties": False,
}

FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "FieldErrors",
    "description": "Messages per request field (`non_field_errors` for the whole body); a "
    "nested field's value is an object of its own fields, or of list positions.",
    "additionalProperties": {"anyOf": [MESSAGES, {"type": "object"}, {"type": "array"}]},
}

ERROR_SCHEMA: dict[str, Any] = {
    "description": "Every error answer of the API.",
    "anyOf": [REFUSAL_SCHEMA, FIELD_ERRORS_SCHEMA],
}


class ErrorSerializer(serializers.Serializer):
    """Stands for the `Error` component in `@extend_schema`; never used to render."""


class ErrorSerializerExtension(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def get_name(self, auto_schema: openapi.AutoSchema, direction: str) -> str:
        return "Error"

    def map_serializer(self, auto_schema: openapi.AutoSchema, direction: str) -> dict[str, Any]:
        return ERROR_SCHEMA


ERROR_ANSWERS = {
    "400": "The request is not valid: field errors, a refused value or unstorable text.",
    "401": "No valid credentials (`Authorization: Token <key>`, or a session login).",
    "403": "Not allowed for your role or on this object; `detail` says why.",
    "404": "Not found, or not visible to you (another account's object), or no such page.",
    "429": "Too many requests (THROTTLE_* rates, or too many wrong tokens from your address); "
    "the `Retry-After` header says how many seconds to wait.",
}

UNSUPPORTED_BODY = (
    "415",
    "The body is not JSON (only the import also takes a multipart `file`).",
)

CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="The thing changed underneath the request: a stale `revision` (the answer "
    "carries the current one), a completed or taken session.",
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give."""

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        answers = dict(ERROR_ANSWERS)
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            answers.update([UNSUPPORTED_BODY])
        for code, description in answers.items():
            if code not in responses:
                answer = OpenApiResponse(ErrorSerializer, description=description)
                responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return dict(sorted(responses.items()))
