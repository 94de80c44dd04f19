from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from flows import selectors, services, structure
from flows.api.serializers import (
    ForkSerializer,
    PublishSerializer,
    TreeListSerializer,
    TreeSerializer,
)
from flows.filters import TreeFilterSet
from flows.models import Tree, TreeQuerySet
from resolutionflow.api import BoundedJSONParser
from resolutionflow.schema import CONFLICT

IMPORT_FILE = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


@extend_schema_view(
    update=extend_schema(responses={200: TreeSerializer, 409: CONFLICT}),
    partial_update=extend_schema(responses={200: TreeSerializer, 409: CONFLICT}),
)
class FlowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Flows the caller may see: public published content and their account's flows.

    `q` searches by relevance (`ordering=best`, the default with `q`; on PostgreSQL: name, then
    description, then category and tags, then step titles; prefixes and typos). With `q`,
    `count` stops at 1001: more than 1,000 matches are not counted to the last one.

    `PUT`/`PATCH` of `tree_structure` or `intake_form` must send the `revision` the change is
    based on; if the flow changed since (in the editor, another script), the answer is 409 with
    `code: stale_revision` and the current `revision`, and nothing is saved. On a published
    flow the new content is its working copy (`has_unpublished_changes`, `working_copy`) until
    `POST …/publish/` makes it live; drafts change in place."""

    filterset_class = TreeFilterSet
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> TreeQuerySet:
        queryset = Tree.objects.for_user(self.request.user)
        return queryset.for_lists() if self.action == "list" else queryset.with_card_data()

    def get_serializer_class(self) -> type[TreeListSerializer]:
        return TreeListSerializer if self.action == "list" else TreeSerializer

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(
            self.get_object(), data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        # Answer with the whole flow: a partial serializer would skip fields that are empty.
        return self.respond(serializer.save())

    def respond(self, tree: Tree) -> Response:
        tree = self.get_queryset().get(pk=tree.pk)
        return Response(TreeSerializer(tree, context=self.get_serializer_context()).data)

    @extend_schema(request=PublishSerializer, responses={200: TreeSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Validate and publish (a published flow's working copy becomes live); 400 with
        `errors` (each naming a node) when it is not valid, 409 when `revision` is stale."""
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tree = services.tree_publish(
            tree=self.get_object(), user=request.user, revision=body.validated_data.get("revision")
        )
        return self.respond(tree)

    @extend_schema(request=None, responses=TreeSerializer)
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(services.tree_unpublish(tree=self.get_object(), user=request.user))

    @extend_schema(request=None, responses=TreeSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        """Hide from the library and stop new runs; history is kept."""
        tree = self.get_object()
        return self.respond(services.tree_set_active(tree=tree, user=request.user, active=False))

    @extend_schema(request=None, responses=TreeSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        tree = self.get_object()
        return self.respond(services.tree_set_active(tree=tree, user=request.user, active=True))

    @extend_schema(request=ForkSerializer, responses={201: TreeSerializer})
    @action(detail=True, methods=["post"])
    def fork(self, request: Request, pk: str | None = None) -> Response:
        """Copy a flow you can see into a draft of your account, with a reason."""
        body = ForkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tree = services.tree_fork(tree=self.get_object(), user=request.user, **body.validated_data)
        response = self.respond(tree)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        """The flow as a versioned JSON document (`format`, `version`, fields, structure,
        intake form) that `POST /api/flows/import/` reads back."""
        return Response(selectors.tree_export(self.get_object()))

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": IMPORT_FILE},
        responses={201: TreeSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[BoundedJSONParser, MultiPartParser],
    )
    def import_flow(self, request: Request) -> Response:
        """Create a draft from an export document: the JSON body, or a multipart `file`."""
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size > structure.MAX_JSON_BYTES:
                raise ParseError(f"The file is larger than {structure.MAX_JSON_BYTES:,} bytes.")
            tree = services.tree_import_file(user=request.user, content=upload.read())
        else:
            tree = services.tree_import(user=request.user, document=request.data)
        response = self.respond(tree)
        response.status_code = status.HTTP_201_CREATED
        return response
