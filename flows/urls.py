from django.urls import path

from flows import views

app_name = "flows"
urlpatterns = [
    path("", views.library, name="library"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/edit/", views.edit, name="edit"),
    path("<uuid:pk>/publish/", views.publish, name="publish"),
    path("<uuid:pk>/unpublish/", views.unpublish, name="unpublish"),
    path("<uuid:pk>/retire/", views.retire, name="retire"),
    path("<uuid:pk>/reactivate/", views.reactivate, name="reactivate"),
]
