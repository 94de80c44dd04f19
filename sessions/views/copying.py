"""What Copy for Ticket's review dialog posts back, for a session and for a batch report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from resolutionflow.pages import with_toast
from sessions import redaction
from sessions.services import SessionError


def record_copy(request: HttpRequest, record: Callable[..., Any]) -> HttpResponse:
    """Hand the posted choice (redact all / review / copy as is) and the finding counts to the
    service that records the copy; a refusal or a malformed count is a 400 with a toast."""
    try:
        record(
            choice=request.POST.get("choice", ""),
            found=int(request.POST.get("found", "0")),
            kept=int(request.POST.get("kept", "0")),
            kinds=[k for k in request.POST.get("kinds", "").split(",") if k in redaction.KINDS],
            request=request,
        )
    except ValueError as refused:  # SessionError is a ValueError; so is int("x")
        message = str(refused) if isinstance(refused, SessionError) else "Bad numbers."
        return with_toast(HttpResponse(message, status=400, content_type="text/plain"), message)
    return HttpResponse(status=204)
