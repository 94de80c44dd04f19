"""With DEBUG off, 400/403/404/500 are the site's own pages: its layout and navigation, plain
words, the reason a 403 was raised; htmx gets only that sentence, the API JSON."""

import pytest
from django.urls import reverse

from tests.factories import TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
NAVIGATION = 'aria-label="Main navigation"'


@pytest.fixture(autouse=True)
def production_errors(settings):
    settings.DEBUG = False


def test_403_page_keeps_the_navigation_and_shows_the_reason(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("flows:create"))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in body and "Viewers cannot create flows." in body
    assert NAVIGATION in body and "carol@acme.test" in body  # the user menu is there too
    assert "you are viewer" in body


def test_403_over_htmx_is_only_the_reason_for_the_toast(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("flows:import"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 403 and "<html" not in body
    assert "data-rf-reason" in body and "Viewers cannot import flows." in body


def test_404_page_for_another_accounts_flow(client, engineer, other_account):
    rival = TreeFactory(name="Rival secret runbook", account=other_account)
    client.force_login(engineer)
    response = client.get(reverse("flows:detail", args=[rival.pk]))
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body and "belongs to another team" in body
    assert NAVIGATION in body and "Rival secret runbook" not in body


def test_404_for_an_unknown_address_and_over_htmx(client, engineer):
    client.force_login(engineer)
    page = client.get("/no/such/page/")
    assert page.status_code == 404 and NAVIGATION in page.content.decode()
    fragment = client.get("/no/such/page/", **HTMX).content.decode()
    assert "<html" not in fragment and "There is nothing at this address" in fragment


def test_api_errors_outside_a_view_stay_json(client):
    response = client.get("/api/no-such-resource/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_400_page_for_a_body_django_refuses(client, engineer):
    client.force_login(engineer)
    response = client.post(
        reverse("flows:create"),
        "name=x",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "The request was refused" in body and "nothing was done" in body
    assert NAVIGATION in body


@pytest.mark.urls("tests.resolutionflow.urls")
def test_500_page_keeps_the_navigation_without_touching_the_database(
    client, engineer, django_assert_num_queries
):
    client.force_login(engineer)
    client.raise_request_exception = False
    with django_assert_num_queries(0):
        response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and "a bug" not in body
    assert NAVIGATION in body and reverse("flows:mine") in body
    assert "bob@acme.test" not in body  # no user menu: the user is not looked up


@pytest.mark.urls("tests.resolutionflow.urls")
def test_500_over_htmx_and_the_api(client):
    client.raise_request_exception = False
    fragment = client.get("/boom/", **HTMX)
    assert fragment.status_code == 500 and "<html" not in fragment.content.decode()
    assert "data-rf-reason" in fragment.content.decode()
    api = client.get("/api/boom/")
    assert api.status_code == 500 and api.json() == {"detail": "Server error."}
