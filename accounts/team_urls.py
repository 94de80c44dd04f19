from django.urls import path

from accounts import audit_views, views

app_name = "team"
urlpatterns = [
    path("", views.team, name="index"),
    path("audit/", audit_views.audit, name="audit"),
    path("invite/", views.invite, name="invite"),
    path("redaction/", views.redaction_options, name="redaction"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/deactivate/", views.member_deactivate, name="member-deactivate"),
    path("members/<int:pk>/reactivate/", views.member_reactivate, name="member-reactivate"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
