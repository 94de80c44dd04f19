"""GET /api/audit/: the audit trail, read-only. Owners and admins read their account's
entries, staff every account's; everyone else is refused (403)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated

from accounts.filters import AuditEventFilterSet
from accounts.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    detail = serializers.DictField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "action",
            "action_label",
            "account",
            "actor",
            "actor_email",
            "target_type",
            "target_id",
            "target_label",
            "detail",
            "ip_address",
        ]
        read_only_fields = fields


class CanReadAudit(BasePermission):
    message = "Only owners and admins read the audit trail."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user.is_staff or (user.account_id and user.can_manage_account))


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who did what and when, newest first; filter by `action`, `actor` (user id) and a date
    range (`since`, `until`, inclusive, YYYY-MM-DD). Entries are never changed or deleted."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    permission_classes = [IsAuthenticated, CanReadAudit]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.for_user(self.request.user)
