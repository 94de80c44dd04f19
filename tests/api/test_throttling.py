"""API throttles: anonymous callers, signed-in users and wrong tokens answer 429 with
Retry-After once over their rate; rates come from settings (the environment)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resolutionflow.throttling import TokenFailureThrottle

FLOWS = "/api/flows/"


@pytest.fixture
def rates(settings):
    """Small rates for these tests (the test settings are generous for every other suite)."""

    def set_rates(**overrides: str) -> None:
        base = {"anon": "1000/min", "user": "1000/min", "token_failures": "1000/min"}
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**base, **overrides},
        }

    return set_rates


def token_client(key: str, ip: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_the_default_rates_come_from_the_environment(monkeypatch):
    import importlib

    import resolutionflow.settings as production

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("THROTTLE_USER", "7/min")
    monkeypatch.delenv("THROTTLE_ANON", raising=False)
    rates = importlib.reload(production).REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"anon": "60/min", "user": "7/min", "token_failures": "20/hour"}
    monkeypatch.delenv("THROTTLE_USER")
    importlib.reload(production)


def test_a_mistyped_rate_stops_the_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from resolutionflow.settings import env_rate

    monkeypatch.setenv("THROTTLE_ANON", "sixty")
    with pytest.raises(ImproperlyConfigured, match="THROTTLE_ANON must look like 60/min"):
        env_rate("THROTTLE_ANON", "60/min")
    monkeypatch.setenv("THROTTLE_ANON", "100/hour")
    assert env_rate("THROTTLE_ANON", "60/min") == "100/hour"


def test_anonymous_callers_are_throttled(db, rates):
    rates(anon="3/min")
    client = APIClient()
    for _ in range(3):
        assert client.get("/api/").status_code == 200
    assert_throttled(client.get("/api/"))
    # Counted per address: another one is not concerned.
    assert APIClient(REMOTE_ADDR="192.0.2.1").get("/api/").status_code == 200


def test_a_signed_in_user_is_throttled_and_others_are_not(engineer, owner, rates):
    rates(user="5/min")
    client = token_client(Token.objects.create(user=engineer).key)
    for _ in range(5):
        assert client.get(FLOWS).status_code == 200
    assert_throttled(client.get(FLOWS))
    other = token_client(Token.objects.create(user=owner).key)
    assert other.get(FLOWS).status_code == 200


def test_wrong_tokens_are_throttled_per_address_even_with_a_right_token_after(engineer, rates):
    rates(token_failures="3/hour")
    good = Token.objects.create(user=engineer).key
    for i in range(3):
        response = token_client(f"wrong{i}").get(FLOWS)
        assert response.status_code == 401
    assert_throttled(token_client("wrong-again").get(FLOWS))
    assert int(token_client("wrong").get(FLOWS)["Retry-After"]) > 3000  # about an hour
    # The right token from that address waits too, so a guess cannot be confirmed.
    assert_throttled(token_client(good).get(FLOWS))
    # A header the client writes itself does not change its address.
    spoofed = token_client(good)
    assert_throttled(spoofed.get(FLOWS, HTTP_X_FORWARDED_FOR="203.0.113.9"))
    # Another address, and no token at all, are not concerned.
    assert token_client(good, ip="192.0.2.50").get(FLOWS).status_code == 200
    assert APIClient().get(FLOWS).status_code == 401


def test_right_tokens_never_count_as_failures(engineer, rates):
    rates(token_failures="2/hour")
    client = token_client(Token.objects.create(user=engineer).key)
    for _ in range(10):
        assert client.get(FLOWS).status_code == 200


def test_wrong_tokens_are_forgiven_after_the_window(engineer, rates, monkeypatch):
    rates(token_failures="2/min")
    good = Token.objects.create(user=engineer).key
    for _ in range(2):
        token_client("wrong").get(FLOWS)
    assert_throttled(token_client(good).get(FLOWS))
    later = TokenFailureThrottle.timer() + 61
    monkeypatch.setattr(TokenFailureThrottle, "timer", lambda self=None: later)
    assert token_client(good).get(FLOWS).status_code == 200
