from rest_framework.routers import SimpleRouter

from accounts.api.audit import AuditEventViewSet
from accounts.api.views import InvitationViewSet, MemberViewSet

router = SimpleRouter()
# Before "members", so /api/members/invitations/ is not read as a member's id.
router.register("members/invitations", InvitationViewSet, basename="invitation")
router.register("members", MemberViewSet, basename="member")
router.register("audit", AuditEventViewSet, basename="auditevent")
urlpatterns = router.urls
