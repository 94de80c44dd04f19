from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Log in by e-mail (case-insensitive); service accounts never authenticate."""

    def user_can_authenticate(self, user) -> bool:  # type: ignore[no-untyped-def]
        return not getattr(user, "is_service_account", False) and super().user_can_authenticate(
            user
        )
