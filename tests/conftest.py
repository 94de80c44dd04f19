"""Named people (Healthchecks style): owner, engineer and viewer of one account, an outsider;
and the flows and runs several test packages share (a package overrides one when it needs more,
as tests/sessions does for an intake form)."""

import os

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from hypothesis import settings
from rest_framework.test import APIClient

from accounts.models import Role
from flows.models import TreeStatus, TreeType
from sessions import services as session_services
from tests.factories import AccountFactory, TreeFactory, UserFactory, procedural_structure

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
def ts_flow(account, owner):
    return TreeFactory(name="VPN tunnel down", account=account, author=owner)


def procedure_flow(account, owner, **fields):
    """The shared procedure "Patch a server"; `fields` add to it (an intake form)."""
    return TreeFactory(
        name="Patch a server",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
        **fields,
    )


@pytest.fixture
def proc_flow(account, owner):
    return procedure_flow(account, owner)


@pytest.fixture
def own_draft(account, owner):
    return TreeFactory(
        name="Acme half-written draft", account=account, author=owner, status=TreeStatus.DRAFT
    )


@pytest.fixture
def ts_session(ts_flow, engineer):
    return session_services.session_start(tree=ts_flow, user=engineer, ticket_number="T-1")


@pytest.fixture
def proc_session(proc_flow, engineer):
    return session_services.session_start(tree=proc_flow, user=engineer, ticket_number="T-2")


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
