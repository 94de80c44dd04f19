"""Issue 14: the team's redaction options, on /team/ (owners and admins) and in the admin,
through one audited service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Account, AuditAction, AuditEvent, Role
from tests.factories import UserFactory


@pytest.fixture
def admin_member(account):
    return UserFactory(email="erin@acme.test", account=account, role=Role.ADMIN)


def options(account: Account) -> tuple[bool, bool]:
    account.refresh_from_db()
    return account.redact_internal, account.always_redact


def test_the_team_page_shows_the_options_unticked_by_default(client, owner):
    client.force_login(owner)
    html = client.get(reverse("team:index")).content.decode()
    assert "Redact internal addresses, MAC and e-mail addresses" in html
    assert "Always redact" in html
    assert 'name="always_redact" id="id_always_redact" aria-describedby' in html
    assert 'name="always_redact" id="id_always_redact" checked' not in html


@pytest.mark.parametrize("who", ["owner", "admin_member"])
def test_owners_and_admins_save_the_options_and_it_is_audited(client, account, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.post(
        reverse("team:redaction"), {"always_redact": "on"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="id_always_redact" checked' in html
    assert "Redaction options saved." in response["HX-Trigger"]
    assert options(account) == (False, True)
    event = AuditEvent.objects.get(action=AuditAction.REDACTION_CHANGED)
    assert event.actor == user
    assert event.detail["to"] == {"redact_internal": False, "always_redact": True}


def test_without_htmx_the_form_redirects_back_to_the_team(client, account, owner):
    client.force_login(owner)
    response = client.post(reverse("team:redaction"), {"redact_internal": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("team:index")
    assert options(account) == (True, False)


@pytest.mark.parametrize("who", ["engineer", "viewer"])
def test_engineers_and_viewers_may_not_change_them(client, account, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("team:redaction"), {"always_redact": "on"})
    assert response.status_code == 403
    assert options(account) == (False, False)


def test_an_outsider_changes_only_their_own_team(client, account, other_account, outsider):
    outsider.role = Role.OWNER
    outsider.save()
    client.force_login(outsider)
    client.post(reverse("team:redaction"), {"always_redact": "on"})
    assert options(account) == (False, False)
    assert options(other_account) == (False, True)


def test_the_service_refuses_another_accounts_options(account, other_account, outsider):
    outsider.role = Role.OWNER
    outsider.save()
    with pytest.raises(services.MemberRefused):
        services.account_set_redaction(
            actor=outsider, account=account, redact_internal=True, always_redact=True
        )
    assert options(account) == (False, False)


def test_saving_the_same_options_records_nothing(account, owner):
    services.account_set_redaction(
        actor=owner, account=account, redact_internal=False, always_redact=False
    )
    assert not AuditEvent.objects.filter(action=AuditAction.REDACTION_CHANGED).exists()


def test_the_admin_changes_them_through_the_service(client, account, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    url = reverse("admin:accounts_account_change", args=[account.pk])
    page = client.get(url).content.decode()
    assert "Always redact" in page
    data = {
        "name": account.name,
        "slug": account.slug,
        "created_at_0": account.created_at.strftime("%Y-%m-%d"),
        "created_at_1": account.created_at.strftime("%H:%M:%S"),
        "always_redact": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert options(account) == (False, True)
    assert AuditEvent.objects.get(action=AuditAction.REDACTION_CHANGED).actor == staff
