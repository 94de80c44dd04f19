"""DRF authentication that refuses service accounts, like the login page does."""

from rest_framework import authentication, exceptions


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        result = super().authenticate(request)
        if result and result[0].is_service_account:
            return None
        return result


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):  # type: ignore[no-untyped-def]
        user, token = super().authenticate_credentials(key)
        if user.is_service_account:
            raise exceptions.AuthenticationFailed("Service accounts cannot use the API.")
        return user, token
