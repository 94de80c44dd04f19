from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from flows import selectors, services, structure
from flows.api.serializers import (
    CompareSerializer,
    DiffSerializer,
    ForkSerializer,
    PublishSerializer,
    PullResultSerializer,
    ResolutionsSerializer,
    RestoreSerializer,
    TreeListSerializer,
    TreeSerializer,
    TreeVersionDetailSerializer,
    TreeVersionSerializer,
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
            tree=self.get_object(),
            user=request.user,
            revision=body.validated_data.get("revision"),
            note=body.validated_data.get("note", ""),
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

    # --- versions and lineage ---------------------------------------------------------------

    @extend_schema(responses=TreeVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every published version, newest first: who, when, the change note, runs made on it."""
        versions = selectors.tree_versions(self.get_object())
        return Response(TreeVersionSerializer(versions, many=True).data)

    @extend_schema(responses=TreeVersionDetailSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})")
    def version(self, request: Request, pk: str | None = None, number: str = "") -> Response:
        """One version with its structure and intake form (immutable)."""
        tree = self.get_object()
        version = get_object_or_404(selectors.tree_version_details(tree), number=int(number))
        return Response(TreeVersionDetailSerializer(version).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", str, description="Version number, `live` or `draft` (default `live`)."
            ),
            OpenApiParameter(
                "to",
                str,
                description="Version number, `live` or `draft` "
                "(default `draft`, the working copy, for editors; `live` for readers, who may "
                "not see unpublished changes: `draft` answers them 403).",
            ),
        ],
        responses=DiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Node-level diff: added, removed, moved, changed (with a word-level diff of changed
        fields). A moved node exists on both sides and hangs under another parent, or its
        order among siblings present on both sides changed (fewest moves). `intake` lists the
        intake-form fields that changed, matched by name (`key`)."""
        tree = self.get_object()
        can_edit = tree.can_be_edited_by(request.user)
        before = request.query_params.get("from") or "live"
        after = request.query_params.get("to") or ("draft" if can_edit else "live")
        if selectors.DRAFT in (before, after) and not can_edit:
            raise PermissionDenied("Only the flow's editors see its unpublished changes.")
        return Response(selectors.tree_diff(tree, before, after).as_json())

    @extend_schema(request=RestoreSerializer, responses={200: TreeSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Put an old version into the working copy; publish to make it live."""
        body = RestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tree = services.tree_restore(
            tree=self.get_object(),
            user=request.user,
            number=body.validated_data["version"],
            revision=body.validated_data.get("revision"),
        )
        return self.respond(tree)

    @extend_schema(responses=CompareSerializer)
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, pk: str | None = None) -> Response:
        """A fork against its parent: the parent's changes since the fork beside the fork's
        own (two-way when the fork predates versions)."""
        tree = self.get_object()
        self._visible_parent(tree)
        can_edit = tree.can_be_edited_by(request.user)
        found = selectors.fork_compare(tree, working_copy=can_edit)
        return Response(
            {
                "three_way": found["three_way"],
                "base_version": found["base"].number if found["base"] else None,
                "parent": found["parent"].as_json() if found["parent"] else None,
                "fork": found["fork"].as_json(),
            }
        )

    @extend_schema(
        request=ResolutionsSerializer,
        responses={200: PullResultSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="pull-parent", url_name="pull-parent")
    def pull_parent(self, request: Request, pk: str | None = None) -> Response:
        """Three-way merge of the parent's changes into the fork's working copy. With
        unresolved conflicts nothing is written (`written: false`): send `resolutions` for
        every conflict (nodes and intake fields): `theirs`, `mine` or `{"edit": {…}}`.
        Nothing is published."""
        body = ResolutionsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tree = self.get_object()
        self._visible_parent(tree)
        result = services.tree_pull_parent(
            tree=tree,
            user=request.user,
            resolutions=body.validated_data.get("resolutions") or {},
            revision=body.validated_data.get("revision"),
        )
        tree.refresh_from_db(fields=["revision"])
        return Response(
            {
                "written": not result.unresolved,
                "three_way": result.three_way,
                "tree_structure": result.structure,
                "intake_form": result.intake_form,
                "applied": result.applied,
                "applied_intake": result.applied_intake,
                "conflicts": [c.as_json() for c in result.conflicts],
                "revision": tree.revision,
            }
        )

    def _visible_parent(self, tree: Tree) -> None:
        """A parent the caller cannot see is answered like no parent at all."""
        visible = Tree.objects.for_user(self.request.user).filter(pk=tree.parent_tree_id)
        if tree.parent_tree_id is None or not visible.exists():
            raise ValidationError("This flow has no parent you can compare with.")
