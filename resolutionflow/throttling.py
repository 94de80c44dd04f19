"""API throttles (DRF's, counted in the configured cache): anonymous callers, signed-in users,
and wrong API tokens per client address. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
(environment variables THROTTLE_ANON, THROTTLE_USER, THROTTLE_TOKEN_FAILURES)."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings


class LiveRatesMixin:
    """DRF copies the rates once, at import; reading them per request lets settings change
    them (tests, `override_settings`) without a restart."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(LiveRatesMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(LiveRatesMixin, throttling.UserRateThrottle):
    pass


class TokenFailureThrottle(LiveRatesMixin, throttling.SimpleRateThrottle):
    """Counts wrong tokens per client address; only failures count, so a script with a good
    token is never slowed by this one (the user rate still applies)."""

    scope = "token_failures"

    def get_cache_key(self, request: Request, view: Any = None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request: Request) -> None:
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]

    def blocked(self, request: Request) -> bool:
        """True when this address has used up its wrong tokens; nothing is recorded."""
        if self.rate is None:
            return False
        self._load(request)
        return len(self.history) >= self.num_requests

    def record_failure(self, request: Request) -> None:
        if self.rate is None:
            return
        self._load(request)
        self.throttle_success()  # DRF's name for "append now to the history"
