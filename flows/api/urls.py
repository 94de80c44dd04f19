from rest_framework.routers import SimpleRouter

from flows.api.views import FlowViewSet

router = SimpleRouter()
router.register("flows", FlowViewSet, basename="flow")
urlpatterns = router.urls
