"""The login page under brute force (django-axes): lockout after N failures per e-mail and per
address, a clear page in the site's layout, unlock after the cool-off or by an admin, and the
audit events of it all."""

import re
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditAction, AuditEvent
from resolutionflow.settings import axes_lockout_parameters
from tests.factories import TEST_PASSWORD

LIMIT = settings.AXES_FAILURE_LIMIT
LOGIN = reverse("accounts:login")


def attempt(client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, email: str, times: int, ip: str = "127.0.0.1") -> None:
    for _ in range(times):  # the last one may already answer with the lockout page
        assert attempt(client, email, "wrong-password", ip).status_code in (200, 429)


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username"], ["ip_address"]]


def test_lockout_parameters_read_from_the_environment_form():
    assert axes_lockout_parameters("username, username+ip_address") == [
        ["username"],
        ["username", "ip_address"],
    ]


def test_below_the_limit_the_right_password_still_works(client, engineer):
    fail(client, engineer.email, LIMIT - 1)
    assert attempt(client, engineer.email, TEST_PASSWORD).status_code == 302
    assert logged_in(client)


def test_logging_in_to_another_account_does_not_reset_the_count(client, engineer, owner):
    """The attacker's own login between guesses must not wipe the victim's failures."""
    fail(client, engineer.email, LIMIT - 1, "192.0.2.30")
    attacker = type(client)()
    assert attempt(attacker, owner.email, TEST_PASSWORD, "192.0.2.30").status_code == 302
    assert attempt(client, engineer.email, "wrong-password", "192.0.2.31").status_code == 429
    assert attempt(client, engineer.email, TEST_PASSWORD, "192.0.2.32").status_code == 429


def test_after_the_limit_even_the_right_password_is_refused_with_a_clear_page(client, engineer):
    fail(client, engineer.email, LIMIT - 1)
    assert attempt(client, engineer.email, "wrong-password").status_code == 429
    response = attempt(client, engineer.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert "Too many failed attempts; try again in 15 minutes." in page
    # The site's layout (title, stylesheet), not axes' bare text.
    assert "<title>Too many failed attempts · ResolutionFlow</title>" in page
    assert "bootstrap.min.css" in page
    assert "Back to log in" in page
    assert response["Retry-After"] == str(15 * 60)


def test_the_e_mail_counts_whatever_its_case_and_from_any_address(client, engineer):
    for i in range(LIMIT):
        attempt(client, engineer.email.upper() if i % 2 else engineer.email, "x", f"10.0.0.{i}")
    response = attempt(client, engineer.email, TEST_PASSWORD, "10.9.9.9")
    assert response.status_code == 429
    assert not logged_in(client)


def test_one_address_trying_many_logins_is_locked_out(client, engineer, owner):
    for i in range(LIMIT):
        attempt(client, f"guess{i}@acme.test", "x", "192.0.2.7")
    assert attempt(client, engineer.email, TEST_PASSWORD, "192.0.2.7").status_code == 429
    # Another address is not concerned.
    assert attempt(client, owner.email, TEST_PASSWORD, "192.0.2.8").status_code == 302


def test_unlocked_after_the_cooloff(client, engineer):
    fail(client, engineer.email, LIMIT)
    assert attempt(client, engineer.email, TEST_PASSWORD).status_code == 429
    # Fourteen minutes on, still locked (that refused try also restarted the wait).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert attempt(client, engineer.email, TEST_PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = attempt(client, engineer.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_an_admin_sees_the_lockout_and_unlocks_it(client, engineer, staff):
    fail(client, engineer.email, LIMIT)
    staff.is_superuser = True
    staff.save()
    admin = type(client)()
    admin.force_login(staff)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin.get(changelist, {"locked_out": "yes"}).content.decode()
    assert engineer.email in page
    assert "Locked Out" in page
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin.post(changelist, {"action": "unlock", "_selected_action": ids}, follow=True)
    assert "Unlocked; 1 failure record(s) removed." in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert attempt(client, engineer.email, TEST_PASSWORD).status_code == 302
    assert logged_in(client)


def test_failed_logins_and_the_lockout_are_in_the_audit_trail(client, engineer):
    fail(client, "Nobody@Acme.test", 2, "198.51.100.4")
    failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert failed.count() == 2
    assert {e.detail["email"] for e in failed} == {"nobody@acme.test"}
    assert {e.ip_address for e in failed} == {"198.51.100.4"}
    assert not AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT).exists()

    fail(client, engineer.email, LIMIT - 1)
    attempt(client, engineer.email, "wrong-password")
    locked = AuditEvent.objects.get(action=AuditAction.LOCKED_OUT)
    assert locked.actor_email == engineer.email
    assert locked.detail["email"] == engineer.email
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 2 + LIMIT


def test_a_successful_login_records_no_failure(client, engineer):
    assert attempt(client, engineer.email, TEST_PASSWORD).status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).exists()


def test_each_failure_is_listed_in_the_admin(client, engineer, staff):
    fail(client, engineer.email, 2)
    assert AccessFailureLog.objects.filter(username=engineer.email).count() == 2
    staff.is_superuser = True
    staff.save()
    admin = type(client)()
    admin.force_login(staff)
    page = admin.get(reverse("admin:axes_accessfailurelog_changelist")).content.decode()
    assert page.count(engineer.email) >= 2


# --- A new password ends the lockout (audit follow-up) --------------------------------------


def locked_out(client, user) -> None:
    fail(client, user.email, LIMIT)
    assert attempt(client, user.email, TEST_PASSWORD).status_code == 429


def test_a_password_reset_by_e_mail_ends_the_lockout(client, engineer):
    locked_out(client, engineer)
    client.post(reverse("accounts:password-reset"), {"email": engineer.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    new = "a-brand-new-secret-42"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert not AccessAttempt.objects.filter(username=engineer.email).exists()
    client.logout()
    assert attempt(client, engineer.email, new).status_code == 302
    assert logged_in(client)


def test_an_admins_password_change_ends_the_lockout_and_is_audited(client, engineer, staff):
    locked_out(client, engineer)
    staff.is_superuser = True
    staff.save()
    admin = type(client)()
    admin.force_login(staff)
    url = reverse("admin:auth_user_password_change", args=[engineer.pk])
    new = "set-by-the-admin-77"
    refused = admin.post(url, {"password1": new, "password2": "typo"})
    assert refused.status_code == 200
    assert AccessAttempt.objects.filter(username=engineer.email).exists()  # nothing saved yet
    saved = admin.post(url, {"password1": new, "password2": new})
    assert saved.status_code == 302
    assert not AccessAttempt.objects.filter(username=engineer.email).exists()
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert (event.actor, event.target_id, event.account) == (
        staff,
        str(engineer.pk),
        engineer.account,
    )
    assert attempt(client, engineer.email, new).status_code == 302
    assert logged_in(client)


def test_a_new_password_forgets_only_that_logins_failures(client, engineer, owner):
    fail(client, owner.email, 2, "198.51.100.9")
    locked_out(client, engineer)
    services.password_changed(user=engineer)
    assert not AccessAttempt.objects.filter(username=engineer.email).exists()
    assert AccessAttempt.objects.get(username=owner.email).failures_since_start == 2
