"""The one base of every refusal a service raises, carrying the HTTP status it means.

Kept free of Django so `flows/structure.py` can build on it. The API turns any ServiceError into
its status and `payload()` (`resolutionflow/api.py`); pages turn it into a toast or a message
with `resolutionflow.pages.refusal_text`.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request a service refuses; `str()` is one plain sentence for a person."""

    status_code = 400
    code = "invalid"

    def payload(self) -> dict[str, Any]:
        """The API's error body: always `detail` and `code`, subclasses add their own keys."""
        return {"detail": str(self), "code": self.code}


class Conflict(ServiceError):
    """The thing changed state underneath the request (completed, taken, a newer revision)."""

    status_code = 409
    code = "conflict"
