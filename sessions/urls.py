from django.urls import path

from sessions import batch_control_views, views

app_name = "flowsessions"
urlpatterns = [
    path("", views.history, name="history"),
    path("new/<uuid:tree_id>/", views.start, name="start"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/run/", views.run, name="run"),
    path("<uuid:pk>/answer/", views.answer, name="answer"),
    path("<uuid:pk>/back/", views.back, name="back"),
    # `path`: ids in runs begun before the id rules may hold a "/" (issue 9).
    path("<uuid:pk>/steps/<path:step_id>/", views.step, name="step"),
    path("<uuid:pk>/custom-steps/", views.custom_step_add, name="custom-add"),
    path("<uuid:pk>/library/", views.library_insert, name="library-insert"),
    path(
        "<uuid:pk>/custom-steps/from-library/",
        views.custom_step_from_library,
        name="custom-add-library",
    ),
    path(
        "<uuid:pk>/custom-steps/<str:custom_id>/save-to-library/",
        views.custom_step_save_to_library,
        name="custom-save-to-library",
    ),
    path(
        "<uuid:pk>/custom-steps/<str:custom_id>/remove/",
        views.custom_step_remove,
        name="custom-remove",
    ),
    path("<uuid:pk>/feedback/<path:node_id>/", views.feedback, name="feedback"),
    path("<uuid:pk>/complete/", views.complete, name="complete"),
    path("<uuid:pk>/rate/", views.rate, name="rate"),
    path("<uuid:pk>/export/", views.export, name="export"),
    path("<uuid:pk>/exported/", views.mark_exported, name="exported"),
    path("<uuid:pk>/handover/", batch_control_views.session_handover, name="handover"),
    path("<uuid:pk>/takeover/", batch_control_views.session_takeover, name="takeover"),
    path("notifications/", batch_control_views.notifications, name="notifications"),
]
