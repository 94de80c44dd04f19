import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from accounts.services import service_account_ensure
from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_service_account_exists_after_migrate_and_is_idempotent(db):
    assert User.objects.filter(is_service_account=True).count() == 1
    first = service_account_ensure()
    second = service_account_ensure()
    assert first.pk == second.pk
    assert User.objects.filter(email=settings.SERVICE_ACCOUNT_EMAIL).count() == 1
    assert not second.has_usable_password()


def test_service_account_ensure_repairs_a_tampered_account(db):
    user = User.objects.get(email=settings.SERVICE_ACCOUNT_EMAIL)
    user.set_password(TEST_PASSWORD)
    user.is_staff = True
    user.save()
    repaired = service_account_ensure()
    assert not repaired.has_usable_password()
    assert not repaired.is_staff


def test_service_account_cannot_log_in_even_with_a_password(client, db):
    user = User.objects.get(email=settings.SERVICE_ACCOUNT_EMAIL)
    user.set_password(TEST_PASSWORD)  # bypassing every guard on purpose
    user.save()
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_service_account_token_is_refused_by_the_api(api, db):
    user = User.objects.get(email=settings.SERVICE_ACCOUNT_EMAIL)
    token = Token.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/flows/").status_code == 401


def test_login_by_email_is_case_insensitive(client, engineer):
    response = client.post(
        reverse("accounts:login"), {"username": "BOB@Acme.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == engineer.pk


def test_wrong_password_shows_an_error_on_the_form(client, engineer):
    response = client.post(
        reverse("accounts:login"), {"username": engineer.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_logout_needs_post_and_ends_the_session(client, engineer):
    client.force_login(engineer)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_profile_creates_replaces_and_revokes_the_api_token(client, engineer, api):
    client.force_login(engineer)
    response = client.post(reverse("accounts:token-create"))
    key = Token.objects.get(user=engineer).key
    assert key.encode() in response.content  # shown once
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/flows/").status_code == 200

    client.post(reverse("accounts:token-create"))
    assert Token.objects.get(user=engineer).key != key
    assert api.get("/api/flows/").status_code == 401  # the old key is gone

    client.post(reverse("accounts:token-revoke"))
    assert not Token.objects.filter(user=engineer).exists()
    profile = client.get(reverse("accounts:profile"))
    assert b"You have no API token" in profile.content


def test_pages_redirect_anonymous_visitors_to_login(client, db):
    for name in ["flows:library", "flows:mine", "accounts:profile", "sessions:index"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_seed_demo_is_idempotent_and_sets_the_password(client, db):
    call_command("seed_demo", password="pw-one-2026", force=True)
    call_command("seed_demo", password="pw-two-2026", force=True)
    emails = ["owner@demo.local", "engineer@demo.local", "viewer@demo.local"]
    assert User.objects.filter(email__in=[*emails, "outsider@other.local"]).count() == 4
    roles = dict(User.objects.filter(email__in=emails).values_list("email", "role"))
    assert roles == {emails[0]: Role.OWNER, emails[1]: Role.ENGINEER, emails[2]: Role.VIEWER}
    outsider = User.objects.get(email="outsider@other.local")
    assert outsider.account.name == "Other MSP"
    # Through the login page: django-axes watches logins made with a request.
    response = client.post(
        reverse("accounts:login"), {"username": "engineer@demo.local", "password": "pw-two-2026"}
    )
    assert response.status_code == 302


def test_seed_demo_refuses_with_debug_off_unless_forced(db):
    with pytest.raises(CommandError, match="only runs with DEBUG=1"):
        call_command("seed_demo", password="pw-one-2026")
    assert not User.objects.filter(email="owner@demo.local").exists()


def test_admin_lists_and_filters_service_accounts(client, staff, engineer):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.get("/admin/accounts/user/?is_service_account__exact=1")
    assert response.status_code == 200
    assert settings.SERVICE_ACCOUNT_EMAIL.encode() in response.content
    assert engineer.email.encode() not in response.content
    unfiltered = client.get("/admin/accounts/user/?is_service_account__exact=0")
    assert engineer.email.encode() in unfiltered.content


def test_admin_refuses_a_password_for_the_service_account(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    service = User.objects.get(is_service_account=True)
    url = f"/admin/accounts/user/{service.pk}/password/"
    response = client.post(
        url, {"password1": "A-strong-pass-123", "password2": "A-strong-pass-123"}
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert not service.has_usable_password()


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py as an operator runs it: its own settings module, no test environment."""
    unset = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k8$Zq1!vX9pL2@wR7#tY4^uI6&oP0*aS3(dF5)gH8-jK1_lZ2+xC4=vB6nM7qW9eR",
        ALLOWED_HOSTS="flows.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
