"""DRF authentication that refuses service accounts, like the login page does, and answers
429 to an address that has sent too many wrong tokens."""

from rest_framework import authentication, exceptions

from resolutionflow.throttling import TokenFailureThrottle


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        result = super().authenticate(request)
        if result and result[0].is_service_account:
            return None
        return result


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: nothing to count
        throttle = TokenFailureThrottle()
        if throttle.blocked(request):
            # Even a right token is refused now, so guessing learns nothing until the wait ends.
            raise exceptions.Throttled(wait=throttle.wait())
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, key):  # type: ignore[no-untyped-def]
        user, token = super().authenticate_credentials(key)
        if user.is_service_account:
            raise exceptions.AuthenticationFailed("Service accounts cannot use the API.")
        return user, token
