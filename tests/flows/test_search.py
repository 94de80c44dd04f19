"""Flow library search: ranked on PostgreSQL (name > description > category and tags > step
titles), name-first on SQLite; the vector kept current by every write path."""

import html
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from flows import services
from flows.filters import TreeFilterSet
from flows.models import Tree
from tests.factories import CategoryFactory, TagFactory, TreeFactory

LIBRARY = reverse("flows:library")
HTMX = {"HTTP_HX_REQUEST": "true"}
PG = connection.vendor == "postgresql"
pg_only = pytest.mark.skipif(not PG, reason="a PostgreSQL feature (full text, pg_trgm)")


def shown_names(response) -> list[str]:
    body = response.content.decode()
    return [
        html.unescape(n) for n in re.findall(r'class="card-title[^"]*"><a [^>]*>(.*?)</a>', body)
    ]


@pytest.fixture
def defaults(db):
    call_command("load_default_flows", verbosity=0)


def test_password_puts_the_password_reset_flow_first(client, engineer, defaults):
    client.force_login(engineer)
    names = shown_names(client.get(LIBRARY, {"q": "password"}, **HTMX))
    assert names[0] == "User password reset / account locked out"
    # The API answers in the same order.
    rows = client.get("/api/flows/", {"q": "password"}).json()["results"]
    assert rows[0]["name"] == "User password reset / account locked out"


def test_a_name_word_beats_a_description_match(client, engineer, account, owner):
    TreeFactory(
        name="Printer offline",
        description="Check the VPN first.",
        account=account,
        author=owner,
        usage_count=90,
    )
    TreeFactory(
        name="VPN will not connect",
        description="Client errors.",
        account=account,
        author=owner,
        usage_count=1,
    )
    client.force_login(engineer)
    assert shown_names(client.get(LIBRARY, {"q": "vpn"}, **HTMX)) == [
        "VPN will not connect",
        "Printer offline",
    ]
    by_use = shown_names(client.get(LIBRARY, {"q": "vpn", "ordering": "popular"}, **HTMX))
    assert by_use == ["Printer offline", "VPN will not connect"]
    body = client.get(LIBRARY, {"q": "vpn"}).content.decode()
    assert '<option value="">Best match</option>' in body and ">Most used</option>" in body


def test_tags_and_categories_are_searched(client, engineer, account, owner):
    TreeFactory(
        name="Slow logons",
        account=account,
        author=owner,
        tags=[TagFactory(name="fslogix")],
        category=CategoryFactory(name="Citrix"),
    )
    client.force_login(engineer)
    assert shown_names(client.get(LIBRARY, {"q": "fslogix"}, **HTMX)) == ["Slow logons"]
    assert shown_names(client.get(LIBRARY, {"q": "citrix"}, **HTMX)) == ["Slow logons"]


@pytest.mark.parametrize("text", ["'&|!():*\\", "a:* | !b", "日本語 café", "' OR 1=1 --"])
def test_hostile_search_text_is_just_text(client, engineer, defaults, text):
    client.force_login(engineer)
    assert client.get(LIBRARY, {"q": text}, **HTMX).status_code == 200
    assert client.get("/api/flows/", {"q": text}).status_code == 200


def test_prefix_and_constant_queries(
    client, engineer, account, owner, defaults, django_assert_max_num_queries
):
    client.force_login(engineer)
    assert "Active Directory replication failure" in shown_names(
        client.get(LIBRARY, {"q": "replic"}, **HTMX)
    )
    with django_assert_max_num_queries(9) as few:
        client.get(LIBRARY, {"q": "server"}, **HTMX)
    TreeFactory.create_batch(
        40, account=account, author=owner, name="Server down", tags=[TagFactory(name="infra")]
    )
    with django_assert_max_num_queries(9) as many:
        client.get(LIBRARY, {"q": "server"}, **HTMX)
    assert len(few.captured_queries) == len(many.captured_queries)


@pg_only
def test_a_typo_finds_the_flow(client, engineer, defaults):
    client.force_login(engineer)
    names = shown_names(client.get(LIBRARY, {"q": "replciation"}, **HTMX))
    assert names == ["Active Directory replication failure"]


@pg_only
def test_every_write_path_keeps_the_vector_current(engineer, owner, account):
    def found(text):
        results = TreeFilterSet({"q": text}, queryset=Tree.objects.for_user(owner)).qs
        return {tree.name for tree in results[:50]}

    tree = services.tree_create(
        user=owner,
        name="Exchange queue stuck",
        tree_type="troubleshooting",
        description="Mail sits in the outbox.",
        tags=["postfix"],
    )
    assert found("outbox") == {"Exchange queue stuck"} and found("postfix") == {tree.name}
    services.tree_update(tree=tree, user=owner, name="Transport queue stuck", tags=["smtp"])
    assert found("exchange") == set() and found("transport") == {"Transport queue stuck"}
    assert found("smtp") == {"Transport queue stuck"} and found("postfix") == set()
    category = CategoryFactory(name="Messaging")
    services.tree_update(tree=tree, user=owner, category=category)
    category.name = "Collaboration"
    category.save()
    assert found("collaboration") == {"Transport queue stuck"}
    imported = services.tree_import(
        user=owner,
        document={
            "format": "resolutionflow.flow",
            "version": 1,
            "name": "Imported kiosk reset",
            "tree_type": "troubleshooting",
            "tree_structure": tree.tree_structure,
            "tags": ["kiosk"],
        },
    )
    assert found("kiosk") == {imported.name}
    fork = services.tree_fork(tree=imported, user=owner, name="Forked kiosk lockdown")
    assert found("lockdown") == {fork.name}
