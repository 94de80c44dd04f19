"""Batch pages live under their flow: /flows/<flow id>/batches/<batch id>/."""

from django.urls import path

from sessions import batch_control_views, batch_views

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
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/mark/<uuid:session_id>/",
        batch_control_views.mark,
        name="mark",
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/retry/<uuid:session_id>/",
        batch_control_views.retry,
        name="retry",
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/assign/<uuid:session_id>/",
        batch_control_views.assign,
        name="assign",
    ),
    path("<uuid:tree_id>/batches/<uuid:batch_id>/pause/", batch_control_views.pause, name="pause"),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/resume/", batch_control_views.resume, name="resume"
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/cancel/", batch_control_views.cancel, name="cancel"
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/retry-failed/",
        batch_control_views.retry_failed,
        name="retry-failed",
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/relaunch-failed/",
        batch_control_views.relaunch_failed,
        name="relaunch-failed",
    ),
    path(
        "<uuid:tree_id>/batches/<uuid:batch_id>/report/", batch_control_views.report, name="report"
    ),
]
