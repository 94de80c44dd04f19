from django.urls import path

from sessions import views

app_name = "flowsessions"
urlpatterns = [
    path("", views.history, name="history"),
]
