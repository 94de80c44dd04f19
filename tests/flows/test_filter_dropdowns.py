"""Issue 9: the Category and Tag dropdowns of /flows/ and /flows/mine/ list their options, and only
those of flows the user can see (another team's category names are theirs alone)."""

import re

import pytest
from django.urls import reverse

from flows.models import TreeStatus
from tests.factories import CategoryFactory, TagFactory, TreeFactory


def options(body: str, select_id: str) -> list[str]:
    """The (value, text) a person can choose in one dropdown, the "All …" prompt left out."""
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no #{select_id} dropdown"
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    return [f"{value}:{text}" for value, text in found if value]


@pytest.fixture
def labelled(account, owner, other_account, outsider):
    vpn, citrix = CategoryFactory(name="VPN"), CategoryFactory(name="Citrix")
    rival = CategoryFactory(name="Rival secrets")
    TreeFactory(
        name="Acme VPN flow",
        account=account,
        author=owner,
        category=vpn,
        tags=[TagFactory(name="sonicwall")],
    )
    TreeFactory(
        name="Acme Citrix draft",
        account=account,
        author=owner,
        category=citrix,
        status=TreeStatus.DRAFT,
        tags=[TagFactory(name="draft-only")],
    )
    TreeFactory(
        account=other_account,
        author=outsider,
        category=rival,
        tags=[TagFactory(name="rival-tag")],
    )


@pytest.mark.parametrize("page", ["flows:library", "flows:mine"])
def test_an_engineer_sees_the_categories_and_tags_of_their_flows(client, engineer, labelled, page):
    client.force_login(engineer)
    body = client.get(reverse(page)).content.decode()
    assert options(body, "f-category") == ["citrix:Citrix", "vpn:VPN"]
    assert options(body, "f-tag") == ["draft-only:draft-only", "sonicwall:sonicwall"]


def test_a_viewer_does_not_see_the_labels_of_drafts(client, viewer, labelled):
    client.force_login(viewer)
    body = client.get(reverse("flows:library")).content.decode()
    assert options(body, "f-category") == ["vpn:VPN"]
    assert options(body, "f-tag") == ["sonicwall:sonicwall"]


def test_the_chosen_category_stays_selected_and_filters(client, engineer, labelled):
    client.force_login(engineer)
    body = client.get(reverse("flows:mine"), {"category": "citrix"}).content.decode()
    assert re.search(r'<option value="citrix" selected>Citrix</option>', body)
    assert 'value="vpn" selected' not in body
    assert "Acme Citrix draft" in body and "Acme VPN flow" not in body
