"""Every page URL of the sessions app, one list per sub-domain, each mounted under its own
namespace by resolutionflow/urls.py.

Naming scheme: the namespace is the sub-domain (`sessions:`, `batches:`, `targets:`,
`analytics:`); a page is a noun (`index` lists, `detail` shows one), an action is a verb in
kebab-case, and an action on one target of a batch starts with `target-`."""

from django.urls import path

from sessions.views import analytics, batches, runs, targets

# /sessions/ — one run of a flow, its runner, exports and hand-over.
run_urls = [
    path("", runs.history, name="index"),
    path("new/<uuid:tree_id>/", runs.start, name="start"),
    path("<uuid:pk>/", runs.detail, name="detail"),
    path("<uuid:pk>/run/", runs.run, name="run"),
    path("<uuid:pk>/answer/", runs.answer, name="answer"),
    path("<uuid:pk>/back/", runs.back, name="back"),
    # `path`: ids in runs begun before the id rules may hold a "/" (issue 9).
    path("<uuid:pk>/steps/<path:step_id>/", runs.step, name="step"),
    path("<uuid:pk>/custom-steps/", runs.custom_step_add, name="custom-add"),
    path("<uuid:pk>/library/", runs.library_insert, name="library-insert"),
    path(
        "<uuid:pk>/custom-steps/from-library/",
        runs.custom_step_from_library,
        name="custom-add-library",
    ),
    path(
        "<uuid:pk>/custom-steps/<str:custom_id>/save-to-library/",
        runs.custom_step_save_to_library,
        name="custom-save-to-library",
    ),
    path(
        "<uuid:pk>/custom-steps/<str:custom_id>/remove/",
        runs.custom_step_remove,
        name="custom-remove",
    ),
    path("<uuid:pk>/feedback/<path:node_id>/", runs.feedback, name="feedback"),
    path("<uuid:pk>/complete/", runs.complete, name="complete"),
    path("<uuid:pk>/rate/", runs.rate, name="rate"),
    path("<uuid:pk>/export/", runs.export, name="export"),
    path("<uuid:pk>/exported/", runs.mark_exported, name="exported"),
    path("<uuid:pk>/handover/", runs.session_handover, name="handover"),
    path("<uuid:pk>/takeover/", runs.session_takeover, name="takeover"),
    path("notifications/", runs.notifications, name="notifications"),
]

# /flows/<flow id>/batches/… — maintenance batches live under their flow.
BATCH = "<uuid:tree_id>/batches/<uuid:batch_id>/"
TARGET = BATCH + "targets/<uuid:session_id>/"
batch_urls = [
    path("<uuid:tree_id>/batches/", batches.panel, name="index"),
    path("<uuid:tree_id>/batches/launch/", batches.launch, name="launch"),
    path("<uuid:tree_id>/batches/launch/assignees/", batches.launch_assignees, name="assignees"),
    path(BATCH, batches.status, name="detail"),
    path(BATCH + "pause/", batches.pause, name="pause"),
    path(BATCH + "resume/", batches.resume, name="resume"),
    path(BATCH + "cancel/", batches.cancel, name="cancel"),
    path(BATCH + "retry-failed/", batches.retry_failed, name="retry-failed"),
    path(BATCH + "relaunch-failed/", batches.relaunch_failed, name="relaunch-failed"),
    path(BATCH + "report/", batches.report, name="report"),
    path(BATCH + "copied/", batches.copied, name="copied"),
    path(TARGET + "start/", batches.start_target, name="target-start"),
    path(TARGET + "mark/", batches.mark, name="target-mark"),
    path(TARGET + "retry/", batches.retry, name="target-retry"),
    path(TARGET + "assign/", batches.assign, name="target-assign"),
]

# /targets/ — saved target lists.
target_urls = [
    path("", targets.index, name="index"),
    path("new/", targets.edit, name="create"),
    path("<int:pk>/edit/", targets.edit, name="edit"),
    path("<int:pk>/delete/", targets.delete, name="delete"),
]

# /flows/<flow id>/analytics/, /flows/<flow id>/suggestions/ and /flows/review/.
analytics_urls = [
    path("review/", analytics.needs_review, name="review"),
    path("<uuid:pk>/analytics/", analytics.flow_analytics, name="flow"),
    path("<uuid:pk>/analytics/fork/", analytics.fork_outcomes, name="fork-outcomes"),
    path("<uuid:pk>/suggestions/", analytics.flow_suggestions, name="suggestions"),
    path("<uuid:pk>/suggestions/accept/", analytics.suggestion_accept, name="suggestion-accept"),
    path("<uuid:pk>/suggestions/dismiss/", analytics.suggestion_dismiss, name="suggestion-dismiss"),
]
