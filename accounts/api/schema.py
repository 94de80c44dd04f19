"""Tell drf-spectacular that our authentication classes are DRF's session and token schemes."""

from drf_spectacular.authentication import SessionScheme, TokenScheme


class AccountSessionScheme(SessionScheme):
    target_class = "accounts.api.authentication.SessionAuthentication"


class AccountTokenScheme(TokenScheme):
    target_class = "accounts.api.authentication.TokenAuthentication"
