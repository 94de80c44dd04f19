from django.urls import path

from sessions import batch_views

app_name = "targets"
urlpatterns = [
    path("", batch_views.target_lists, name="index"),
    path("new/", batch_views.target_list_edit, name="create"),
    path("<int:pk>/edit/", batch_views.target_list_edit, name="edit"),
    path("<int:pk>/delete/", batch_views.target_list_delete, name="delete"),
]
