from rest_framework.routers import SimpleRouter

from sessions.api.views import BatchViewSet, SessionViewSet, TargetListViewSet

router = SimpleRouter()
router.register("sessions", SessionViewSet, basename="session")
router.register("batches", BatchViewSet, basename="batch")
router.register("target-lists", TargetListViewSet, basename="target-list")
urlpatterns = router.urls
