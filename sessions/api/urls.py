from django.urls import path
from rest_framework.routers import SimpleRouter

from sessions.api.views import BatchViewSet, FlowAnalyticsView, SessionViewSet, TargetListViewSet

router = SimpleRouter()
router.register("sessions", SessionViewSet, basename="session")
router.register("batches", BatchViewSet, basename="batch")
router.register("target-lists", TargetListViewSet, basename="target-list")
urlpatterns = [
    path("flows/<uuid:pk>/analytics/", FlowAnalyticsView.as_view(), name="flow-analytics"),
    *router.urls,
]
