"""Changing a password on the profile page, and resetting it by e-mail link (locmem backend)."""

import re

from django.core import mail

from accounts.models import AuditAction, AuditEvent, User
from tests.conftest import password_login
from tests.factories import TEST_PASSWORD, UserFactory

NEW = "a-brand-new-secret-42"


def test_profile_links_to_change_password(client, engineer):
    client.force_login(engineer)
    assert 'href="/accounts/password/change/"' in client.get("/accounts/profile/").content.decode()


def test_change_password_keeps_you_logged_in_and_is_audited(client, engineer):
    client.force_login(engineer)
    page = client.get("/accounts/password/change/").content.decode()
    assert "Old password" in page
    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200
    assert "incorrectly" in wrong.content.decode()
    assert User.objects.get(pk=engineer.pk).check_password(TEST_PASSWORD)

    answer = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )
    assert answer.redirect_chain[-1][0] == "/accounts/profile/"
    assert "Your password has been changed." in answer.content.decode()
    assert User.objects.get(pk=engineer.pk).check_password(NEW)
    assert client.get("/accounts/profile/").status_code == 200  # session kept
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert (event.actor, event.account) == (engineer, engineer.account)


def test_change_password_needs_a_login(client, db):
    answer = client.get("/accounts/password/change/")
    assert answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]


def test_login_page_links_to_reset(client, db):
    assert 'href="/accounts/password/reset/"' in client.get("/accounts/login/").content.decode()


def test_password_reset_end_to_end(client, engineer):
    page = client.get("/accounts/password/reset/")
    assert "Reset your password" in page.content.decode()
    answer = client.post("/accounts/password/reset/", {"email": "BOB@acme.test"}, follow=True)
    assert "Check your e-mail" in answer.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [engineer.email]
    assert message.subject == "Reset your ResolutionFlow password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)  # Django swaps the token for a session marker
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert done.redirect_chain[-1][0] == "/flows/"
    assert done.context["user"] == engineer  # logged in
    assert User.objects.get(pk=engineer.pk).check_password(NEW)
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_RESET)
    assert event.actor == engineer

    client.logout()
    again = client.get(link, follow=True)
    assert "not valid any more" in again.content.decode()
    assert password_login(client, engineer.email, NEW)


def test_reset_for_an_unknown_or_inactive_address_sends_nothing(client, account):
    UserFactory(email="gone@acme.test", account=account, is_active=False)
    for email in ("nobody@acme.test", "gone@acme.test"):
        answer = client.post("/accounts/password/reset/", {"email": email}, follow=True)
        assert "Check your e-mail" in answer.content.decode()
    assert mail.outbox == []
