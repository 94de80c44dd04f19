"""One FilterSet for the audit trail: the /team/audit/ page and GET /api/audit/."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from accounts.models import AuditAction, AuditEvent, User


def visible_actors(request) -> QuerySet[User]:
    """Only people who appear in the trail this user may read: no other team's names."""
    events = AuditEvent.objects.for_user(getattr(request, "user", None))
    return User.objects.filter(pk__in=events.values("actor")).order_by("email")


class AuditEventFilterSet(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, empty_label="All actions")
    actor = django_filters.ModelChoiceFilter(queryset=visible_actors, empty_label="Anyone")
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From (date)"
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Until (date)"
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "since", "until"]
