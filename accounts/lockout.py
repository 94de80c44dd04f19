"""How django-axes sees the login page: whose attempts count together, what a locked-out person
sees, and the audit events of failed and refused logins."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.audit import audit_record
from accounts.models import AuditAction

LOCKOUT_STATUS = 429


def username_from_credentials(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The e-mail tried, lower-cased: `Bob@x` and `bob@x` are one login, so one counter."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field)
    if raw is None and request is not None:
        raw = request.POST.get(field)
    return str(raw or "").strip().lower()


def cooloff_minutes(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The lockout page in the site's layout (429), not axes' bare text."""
    minutes = cooloff_minutes(request)
    response = render(
        request, "accounts/locked_out.html", {"minutes": minutes}, status=LOCKOUT_STATUS
    )
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = username_from_credentials(request, credentials)  # type: ignore[arg-type]
    audit_record(
        AuditAction.LOGIN_FAILED, actor_email=email, detail={"email": email}, request=request
    )


def on_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    audit_record(
        AuditAction.LOCKED_OUT,
        actor_email=username or "",
        detail={"email": username or "", "ip_address": ip_address or ""},
        request=request,
    )
