from django.urls import path

from flows import editor_views, version_views, views

app_name = "flows"
urlpatterns = [
    path("", views.library, name="library"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("import/", views.import_flow, name="import"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/diagram/", views.diagram_partial, name="diagram"),
    path("<uuid:pk>/publish/", views.publish, name="publish"),
    path("<uuid:pk>/unpublish/", views.unpublish, name="unpublish"),
    path("<uuid:pk>/retire/", views.retire, name="retire"),
    path("<uuid:pk>/reactivate/", views.reactivate, name="reactivate"),
    path("<uuid:pk>/fork/", views.fork, name="fork"),
    path("<uuid:pk>/verify/", views.verify, name="verify"),
    path("<uuid:pk>/export/", views.export, name="export"),
    path("<uuid:pk>/history/", version_views.history, name="history"),
    path("<uuid:pk>/versions/<int:number>/", version_views.version_detail, name="version"),
    path("<uuid:pk>/diff/", version_views.diff_page, name="diff"),
    path("<uuid:pk>/restore/", version_views.restore, name="restore"),
    path("<uuid:pk>/publish/review/", version_views.publish_review, name="publish_review"),
    path("<uuid:pk>/compare/", version_views.compare, name="compare"),
    path("<uuid:pk>/pull-parent/", version_views.pull_parent, name="pull_parent"),
    # The visual editors; every change below is an htmx POST answered with the editor body.
    path("<uuid:pk>/edit/", editor_views.edit, name="edit"),
    path("<uuid:pk>/edit/json/", views.edit_json, name="edit_json"),
    path("<uuid:pk>/edit/details/", editor_views.details, name="editor_details"),
    path("<uuid:pk>/edit/publish/", editor_views.publish, name="editor_publish"),
    path("<uuid:pk>/edit/discard/", editor_views.discard, name="editor_discard"),
    path("<uuid:pk>/edit/preview/", editor_views.preview, name="editor_preview"),
    path("<uuid:pk>/edit/steps/add/", editor_views.step_add, name="editor_step_add"),
    path("<uuid:pk>/edit/nodes/<str:node_id>/", editor_views.node_update, name="editor_node"),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/form/",
        editor_views.node_edit_form,
        name="editor_node_form",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/add/",
        editor_views.node_add,
        name="editor_node_add",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/attach/",
        editor_views.node_attach,
        name="editor_node_attach",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/remove/",
        editor_views.node_remove,
        name="editor_node_remove",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/move/",
        editor_views.node_move,
        name="editor_node_move",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/options/add/",
        editor_views.option_add,
        name="editor_option_add",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/options/<int:index>/",
        editor_views.option_update,
        name="editor_option",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/options/<int:index>/move/",
        editor_views.option_move,
        name="editor_option_move",
    ),
    path(
        "<uuid:pk>/edit/nodes/<str:node_id>/options/<int:index>/remove/",
        editor_views.option_remove,
        name="editor_option_remove",
    ),
    path("<uuid:pk>/edit/intake/add/", editor_views.intake_add, name="editor_intake_add"),
    path(
        "<uuid:pk>/edit/intake/<int:index>/",
        editor_views.intake_update,
        name="editor_intake",
    ),
    path(
        "<uuid:pk>/edit/intake/<int:index>/remove/",
        editor_views.intake_remove,
        name="editor_intake_remove",
    ),
    path(
        "<uuid:pk>/edit/intake/<int:index>/move/",
        editor_views.intake_move,
        name="editor_intake_move",
    ),
]
