from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from resolutionflow import error_pages
from resolutionflow.api_views import SchemaView, api_root
from sessions import urls as session_urls
from sessions.views import analytics as analytics_views

handler400 = error_pages.bad_request
handler403 = error_pages.permission_denied
handler404 = error_pages.page_not_found
handler500 = error_pages.server_error

urlpatterns = [
    path("", analytics_views.home, name="home"),
    path("dashboard/", analytics_views.dashboard, name="dashboard"),
    path("favicon.ico", lambda request: redirect(static("favicon.svg"), permanent=True)),
    path("accounts/", include("accounts.urls")),
    path("team/", include("accounts.team_urls")),
    path("flows/", include("flows.urls")),
    path("flows/", include((session_urls.batch_urls, "batches"))),
    path("flows/", include((session_urls.analytics_urls, "analytics"))),
    path("sessions/", include((session_urls.run_urls, "sessions"))),
    path("targets/", include((session_urls.target_urls, "targets"))),
    path("library/", include("steplibrary.urls")),
    path("admin/", admin.site.urls),
    path("api/", api_root, name="api-root"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from ?script, so no inline script is needed.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Each app mounts its own router under /api/.
    path("api/", include("flows.api.urls")),
    path("api/", include("sessions.api.urls")),
    path("api/", include("steplibrary.api.urls")),
    path("api/", include("accounts.api.urls")),
]
