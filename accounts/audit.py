"""The audit trail's one write path: every recorded event goes through ``audit_record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from accounts.models import Account, AuditAction, AuditEvent, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from (REMOTE_ADDR: proxies must set it, we trust no header)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    action: AuditAction | str,
    *,
    actor: User | None = None,
    account: Account | None = None,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event. ``account`` defaults to the actor's; ``target`` is labelled by ``str``."""
    if actor is not None and getattr(actor, "pk", None) is None:
        actor = None  # AnonymousUser
    if account is None and actor is not None:
        account = actor.account
    label = str(target)[:255] if target is not None else ""
    return AuditEvent.objects.create(
        account=account,
        actor=actor,
        actor_email=(actor.email if actor is not None else actor_email)[:254],
        action=AuditAction(action),
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=label,
        detail=detail or {},
        ip_address=client_ip(request),
    )
