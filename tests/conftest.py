"""Named people (Healthchecks style): owner, engineer and viewer of one account, an outsider."""

import os

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from hypothesis import settings
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import AccountFactory, UserFactory

# CI replays the same examples every run (HYPOTHESIS_PROFILE=ci in .ci/run): a red build then
# names a bug rather than a lucky draw. Locally each run draws new examples.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache (LocMem per process): each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def account(db):
    return AccountFactory(name="Acme MSP")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Rival MSP")


@pytest.fixture
def owner(account):
    return UserFactory(email="alice@acme.test", account=account, role=Role.OWNER)


@pytest.fixture
def engineer(account):
    return UserFactory(email="bob@acme.test", account=account, role=Role.ENGINEER)


@pytest.fixture
def viewer(account):
    return UserFactory(email="carol@acme.test", account=account, role=Role.VIEWER)


@pytest.fixture
def outsider(other_account):
    return UserFactory(email="mallory@rival.test", account=other_account, role=Role.OWNER)


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@resolutionflow.test", account=None, is_staff=True)


@pytest.fixture
def api():
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def password_login(client, email: str, password: str) -> bool:
    """``client.login`` with a request: django-axes counts every password attempt against one."""
    return client.login(request=RequestFactory().post("/"), email=email, password=password)
