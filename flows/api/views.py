from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from flows import services
from flows.api.serializers import TreeListSerializer, TreeSerializer
from flows.filters import TreeFilterSet
from flows.models import Tree, TreeQuerySet


class FlowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Flows the caller may see: public published content and their account's flows."""

    filterset_class = TreeFilterSet
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> TreeQuerySet:
        return Tree.objects.for_user(self.request.user).with_card_data()

    def get_serializer_class(self) -> type[TreeListSerializer]:
        return TreeListSerializer if self.action == "list" else TreeSerializer

    def respond(self, tree: Tree) -> Response:
        tree = self.get_queryset().get(pk=tree.pk)
        return Response(TreeSerializer(tree, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=TreeSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Validate and publish; 400 with `errors` (each naming a node) when it is not valid."""
        return self.respond(services.tree_publish(tree=self.get_object(), user=request.user))

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
