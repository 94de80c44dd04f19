"""Issue 9: only the session's runner (or an admin/owner of its account) marks it exported.
Teammates may read and download a batch session; that does not mark it."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Role
from flows.models import TreeType
from sessions import services
from sessions.models import FlowSession
from tests.conftest import api_as
from tests.factories import TreeFactory, UserFactory


@pytest.fixture
def batch_session(account, owner, engineer):
    """A maintenance target the engineer is running: the whole team can see it."""
    flow = TreeFactory(account=account, author=owner, tree_type=TreeType.MAINTENANCE)
    batch = services.batch_launch(tree=flow, user=engineer, targets=["RDS-01"])
    return services.batch_session_start(session=batch.sessions.get(), user=engineer)


@pytest.fixture
def other_engineer(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ENGINEER)


@pytest.fixture
def admin(account):
    return UserFactory(email="erin@acme.test", account=account, role=Role.ADMIN)


def exported_url(session) -> str:
    return reverse("sessions:exported", args=[session.pk])


def is_exported(session) -> bool:
    return FlowSession.objects.get(pk=session.pk).exported


@pytest.mark.parametrize("who", ["viewer", "other_engineer"])
def test_a_teammate_cannot_mark_a_batch_session_exported(client, batch_session, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse("sessions:detail", args=[batch_session.pk])).status_code == 200
    assert client.post(exported_url(batch_session)).status_code == 403
    assert not is_exported(batch_session)


def test_another_account_gets_404_and_marks_nothing(client, outsider, batch_session):
    client.force_login(outsider)
    assert client.post(exported_url(batch_session)).status_code == 404
    assert not is_exported(batch_session)


@pytest.mark.parametrize("who", ["engineer", "admin", "owner"])
def test_the_runner_or_an_admin_marks_it_exported(client, batch_session, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.post(exported_url(batch_session)).status_code == 204
    assert is_exported(batch_session)


def test_the_service_refuses_a_teammate(batch_session, viewer):
    with pytest.raises(PermissionDenied):
        services.session_mark_exported(session=batch_session, user=viewer)
    assert not is_exported(batch_session)


def test_a_teammates_download_does_not_mark_it(client, viewer, batch_session):
    client.force_login(viewer)
    page = client.get(reverse("sessions:export", args=[batch_session.pk]), {"fmt": "text"})
    assert page.status_code == 200 and "RDS-01" in page.content.decode()
    api = api_as(viewer).get(f"/api/sessions/{batch_session.pk}/export/", {"format": "psa"})
    assert api.status_code == 200 and "RDS-01" in api.content.decode()
    assert not is_exported(batch_session)


def test_the_runners_download_marks_it(client, engineer, batch_session):
    client.force_login(engineer)
    page = client.get(reverse("sessions:export", args=[batch_session.pk]), {"fmt": "text"})
    assert page.status_code == 200
    assert is_exported(batch_session)


def test_copy_for_ticket_records_the_export_only_for_those_who_may(
    client, engineer, viewer, batch_session
):
    services.session_complete(session=batch_session, user=engineer, outcome="resolved")
    detail = reverse("sessions:detail", args=[batch_session.pk])
    client.force_login(viewer)
    body = client.get(detail).content.decode()
    assert "Copy for Ticket" in body and exported_url(batch_session) not in body
    client.force_login(engineer)
    assert f'hx-post="{exported_url(batch_session)}"' in client.get(detail).content.decode()
