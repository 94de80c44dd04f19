from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.serializers import (
    InvitationSerializer,
    InviteSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    OpenInvitationSerializer,
)
from accounts.models import Invitation, User
from accounts.views import invitation_link
from resolutionflow.schema import ErrorSerializer

LAST_OWNER = OpenApiResponse(
    ErrorSerializer, description="`last_owner`: the team would be left without an active owner."
)
ALREADY_REGISTERED = OpenApiResponse(
    ErrorSerializer, description="`already_registered`: this e-mail already has a login."
)
INVITATION_CLOSED = OpenApiResponse(
    ErrorSerializer,
    description="`invitation_closed`: already accepted or revoked; `already_registered`: the "
    "e-mail has a login by now.",
)


@extend_schema_view(
    partial_update=extend_schema(
        request=MemberRoleSerializer, responses={200: MemberSerializer, 409: LAST_OWNER}
    ),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The members of your team. Everyone sees the list; owners and admins change it.

    Owners manage everyone; admins manage engineers and viewers; nobody changes their own role
    or deactivates themselves; a team always keeps one active owner (409 `last_owner`)."""

    serializer_class = MemberSerializer
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.team_members(user=self.request.user)

    def get_object(self) -> User:
        # DRF's helper: an id that is not a number is a 404 too.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def respond(self, member: User, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_object()).data, status=status_code)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a member's role: `{"role": "viewer"}`."""
        member = self.get_object()
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.member_set_role(
            actor=request.user, member=member, role=body.validated_data["role"], request=request
        )
        return self.respond(member)

    @extend_schema(request=None, responses={200: MemberSerializer, 409: LAST_OWNER})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Stop the member logging in and revoke their API token; runs and content stay."""
        member = self.get_object()
        services.member_deactivate(actor=request.user, member=member, request=request)
        return self.respond(member)

    @extend_schema(request=None, responses={200: MemberSerializer})
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        member = self.get_object()
        services.member_reactivate(actor=request.user, member=member, request=request)
        return self.respond(member)

    @extend_schema(
        request=InviteSerializer, responses={201: InvitationSerializer, 409: ALREADY_REGISTERED}
    )
    @action(detail=False, methods=["post"])
    def invite(self, request: Request) -> Response:
        """Invite someone by e-mail. The link is e-mailed and answered here, once."""
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation, link = services.member_invite(
            actor=request.user,
            email=body.validated_data["email"],
            role=body.validated_data["role"],
            link_for=lambda token: invitation_link(request, token),
            request=request,
        )
        return Response(invitation_answer(invitation, link), status=status.HTTP_201_CREATED)


class ManagesTeam(BasePermission):
    message = "Only owners and admins manage the team."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.account_id is not None and request.user.can_manage_account


def invitation_answer(invitation: Invitation, link: str) -> dict[str, Any]:
    """The body of `invite` and `resend`: the invitation and its new link (shown only here)."""
    data = {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": invitation.expires_at,
        "link": link,
    }
    return InvitationSerializer(data).data


class InvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your team's invitations not yet accepted or revoked (expired ones included, to resend).
    Owners and admins only; admins handle the invitations of engineers and viewers."""

    serializer_class = OpenInvitationSerializer
    permission_classes = [IsAuthenticated, ManagesTeam]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Invitation]:
        return selectors.open_invitations(user=self.request.user).select_related("invited_by")

    def get_object(self) -> Invitation:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(request=None, responses={200: InvitationSerializer, 409: INVITATION_CLOSED})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """E-mail a new link with a new expiry, answered here once; the old link stops working."""
        invitation, link = services.invitation_resend(
            actor=request.user,
            invitation=self.get_object(),
            link_for=lambda token: invitation_link(request, token),
            request=request,
        )
        return Response(invitation_answer(invitation, link))

    @extend_schema(request=None, responses={204: None, 409: INVITATION_CLOSED})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw the invitation: its link stops working at once."""
        services.invitation_revoke(
            actor=request.user, invitation=self.get_object(), request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
