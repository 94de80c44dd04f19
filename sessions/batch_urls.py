"""Batch pages live under their flow: /flows/<flow id>/batches/<batch id>/."""

from django.urls import path

from sessions import batch_views

app_name = "batches"
urlpatterns = [
    path("<uuid:tree_id>/batches/", batch_views.panel, name="panel"),
    path("<uuid:tree_id>/batches/launch/", batch_views.launch, name="launch"),
    path("<uuid:tree_id>/batches/<uuid:batch_id>/", batch_views.status, name="status"),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/start/<uuid:session_id>/",
        batch_views.start_target,
        name="start",
    ),
]
