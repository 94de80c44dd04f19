from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from steplibrary import selectors, services
from steplibrary.api.serializers import LibraryStepCopySerializer, LibraryStepSerializer
from steplibrary.filters import LibraryStepFilterSet
from steplibrary.models import LibraryStep, LibraryStepQuerySet


class LibraryStepViewSet(viewsets.ModelViewSet):
    """Library steps the caller may see: their own, their team's and public ones.

    Entries synced from a published flow are read-only: PUT, PATCH and DELETE answer 400 with
    `code: managed_by_source_flow`; save a copy (`POST /api/steps/{id}/copy/`) to customise.
    Lists show active entries unless `is_active=false` is asked for. `q` searches by relevance
    (`ordering=best`, the default with `q`; on PostgreSQL: title, then instructions and help
    text, then commands and tags; prefixes and typos). With `q`, `count` stops at 1001: more
    than 1,000 matches are not counted to the last one.
    """

    serializer_class = LibraryStepSerializer
    filterset_class = LibraryStepFilterSet
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> LibraryStepQuerySet:
        return selectors.visible_steps(user=self.request.user)

    def get_object(self) -> LibraryStep:
        # Not through the list filters: an inactive entry is still readable by its id.
        step = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, step)
        return step

    def respond(self, step: LibraryStep, status_code: int = status.HTTP_200_OK) -> Response:
        step = self.get_queryset().get(pk=step.pk)
        return Response(self.get_serializer(step).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.ensure_can_create(user=request.user)  # a viewer gets 403 before validation
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.respond(serializer.save(), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        step = self.get_object()
        # Read-only and rights first: a synced entry says so whatever the body holds.
        services.ensure_can_edit(step=step, user=request.user)
        serializer = self.get_serializer(step, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        return self.respond(serializer.save())

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.library_step_delete(step=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LibraryStepCopySerializer, responses={201: LibraryStepSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request: Request, pk: str | None = None) -> Response:
        """Save a personal copy: not synced, no source, yours, private unless the body says
        otherwise; any field given in the body replaces the copied value."""
        step = self.get_object()
        services.ensure_can_create(user=request.user)
        serializer = LibraryStepCopySerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        overrides = serializer.service_fields(serializer.validated_data)
        copied = services.library_step_copy(step=step, user=request.user, **overrides)
        return self.respond(copied, status.HTTP_201_CREATED)
