from django.urls import path

from steplibrary import views

app_name = "steplibrary"
urlpatterns = [
    path("", views.index, name="index"),
]
