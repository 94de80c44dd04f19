from django.urls import path

from sessions import views

app_name = "targets"
urlpatterns = [
    path("", views.target_lists, name="index"),
]
