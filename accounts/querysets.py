"""The one tenancy rule every account-owned QuerySet builds on.

Anonymous users and the service account see nothing, staff see everything, anyone else what the
model's own visibility filter allows (by default: their account's rows). Each app's QuerySet
overrides only ``visible_q``; ``allows`` evaluates the same Q on a loaded object, so a check
without a query (a card's source link) cannot drift from the SQL one.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

_M = TypeVar("_M", bound=models.Model)


class Scope(Enum):
    NOTHING = "nothing"
    EVERYTHING = "everything"
    FILTERED = "filtered"


def tenancy_scope(user: Any) -> Scope:
    """The rule itself: anonymous or service account → nothing, staff → everything."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_service_account", False):
        return Scope.NOTHING
    if user.is_staff:
        return Scope.EVERYTHING
    return Scope.FILTERED


# A condition no row meets (Django answers it without a query).
NO_ROWS = Q(pk__in=[])


class AccountScopedQuerySet(models.QuerySet[_M]):
    """Base of every account-owned model's QuerySet."""

    def visible_q(self, user: Any) -> Q:
        """What a signed-in, non-staff user may read; subclasses replace only this."""
        return Q(account_id=user.account_id) if user.account_id else NO_ROWS

    def for_user(self, user: Any) -> AccountScopedQuerySet[_M]:
        scope = tenancy_scope(user)
        if scope is Scope.NOTHING:
            return self.none()
        if scope is Scope.EVERYTHING:
            return self.all()
        return self.filter(self.visible_q(user))

    def allows(self, obj: _M, user: Any) -> bool:
        """``for_user(user)`` would include ``obj``, decided from its loaded fields."""
        scope = tenancy_scope(user)
        if scope is not Scope.FILTERED:
            return scope is Scope.EVERYTHING
        return q_matches(self.visible_q(user), obj)


def q_matches(q: Q, obj: models.Model) -> bool:
    """Evaluate a Q of plain field lookups (exact, ``__in``, ``__isnull``) on a loaded object."""
    results = [
        q_matches(child, obj) if isinstance(child, Q) else _lookup_matches(child, obj)
        for child in q.children
    ]
    matched = all(results) if q.connector == Q.AND else any(results)
    return not matched if q.negated else matched


def _lookup_matches(child: tuple[str, Any], obj: models.Model) -> bool:
    key, expected = child
    field, _, lookup = key.partition("__")
    if field == "pk":
        field = obj._meta.pk.attname
    value = getattr(obj, field)
    if lookup == "":
        return value == expected
    if lookup == "in":
        return value in expected
    if lookup == "isnull":
        return (value is None) is bool(expected)
    raise ValueError(f"q_matches cannot evaluate the lookup {key!r}")
