from __future__ import annotations

from rest_framework import serializers

from accounts.models import Invitation, Role, User


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "is_active", "last_login"]
        read_only_fields = ["id", "email", "name", "is_active", "last_login"]


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()
    link = serializers.URLField(help_text="The invitation link; shown only in this answer.")


class OpenInvitationSerializer(serializers.ModelSerializer):
    """An invitation not yet accepted or revoked (its link is never shown again)."""

    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True)
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at", "is_expired"]
        read_only_fields = fields
