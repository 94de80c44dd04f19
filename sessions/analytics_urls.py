"""Analytics pages under /flows/: /flows/<id>/analytics/ and /flows/review/."""

from django.urls import path

from sessions import analytics_views

app_name = "analytics"
urlpatterns = [
    path("review/", analytics_views.needs_review, name="review"),
    path("<uuid:pk>/analytics/", analytics_views.flow_analytics, name="flow"),
    path("<uuid:pk>/analytics/fork/", analytics_views.fork_outcomes, name="fork_outcomes"),
    path("<uuid:pk>/suggestions/", analytics_views.flow_suggestions, name="suggestions"),
    path(
        "<uuid:pk>/suggestions/accept/",
        analytics_views.suggestion_accept,
        name="suggestion_accept",
    ),
    path(
        "<uuid:pk>/suggestions/dismiss/",
        analytics_views.suggestion_dismiss,
        name="suggestion_dismiss",
    ),
]
