from rest_framework.routers import SimpleRouter

from steplibrary.api.views import LibraryStepViewSet

router = SimpleRouter()
router.register("steps", LibraryStepViewSet, basename="librarystep")
urlpatterns = router.urls
