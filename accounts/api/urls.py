from rest_framework.routers import SimpleRouter

from accounts.api.audit import AuditEventViewSet
from accounts.api.views import MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("audit", AuditEventViewSet, basename="auditevent")
urlpatterns = router.urls
