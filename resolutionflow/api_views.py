"""The API's own pages: its index at /api/ and its OpenAPI schema.

Kept apart from `api.py`, which DRF's settings import (a view module there would be circular).
"""

from typing import Any

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

API_RESOURCES = {
    "flows": "flow-list",
    "sessions": "session-list",
    "batches": "batch-list",
    "target-lists": "target-list-list",
    "steps": "librarystep-list",
}


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    """The resources of the API (token or session login needed), its docs and its schema."""
    links = {name: reverse(route, request=request) for name, route in API_RESOURCES.items()}
    links["docs"] = reverse("api-docs", request=request)
    links["schema"] = reverse("api-schema", request=request)
    return Response(links)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, shown by a browser instead of downloaded.

    A browser accepts anything (`*/*`) and gets `application/json`, which it displays inline;
    clients asking for YAML (`application/vnd.oai.openapi`, `application/yaml`) still get it,
    and `?format=json` or `?format=yaml` choose explicitly.
    """

    renderer_classes = [
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        wanted = request.query_params.get("format")
        for renderer in self.get_renderers():
            if wanted and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force=force)
