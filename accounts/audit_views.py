"""The audit trail page, /team/audit/: owners and admins read their account's trail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.filters import AuditEventFilterSet
from accounts.models import AuditEvent
from resolutionflow.pages import is_partial, paginate

PAGE_SIZE = 50
TEMPLATE = "team/audit.html"


@login_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    # Staff read every account's trail in the admin; the page is a team's own.
    if request.user.account_id is None or not request.user.can_manage_account:
        raise PermissionDenied("Only owners and admins read the audit trail.")
    events = AuditEvent.objects.for_user(request.user).select_related("actor")
    filterset = AuditEventFilterSet(request.GET, queryset=events, request=request)
    context = {"filterset": filterset, "page": paginate(request, filterset.qs, PAGE_SIZE)}
    template = f"{TEMPLATE}#results" if is_partial(request) else TEMPLATE
    return render(request, template, context)
