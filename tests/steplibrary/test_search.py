"""Library search: ranked on PostgreSQL (title > instructions > commands and tags, prefixes,
typos), title-first on SQLite; the vector kept current by every write path; bounded queries."""

import html
import re

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from flows import services as flow_services
from flows.models import Tree
from resolutionflow import search
from steplibrary import services
from steplibrary.models import LibraryStep, Visibility
from tests.factories import LibraryStepFactory, TagFactory

INDEX = reverse("steplibrary:index")
BROWSE = reverse("steplibrary:browse")
LIST = "/api/steps/"
HTMX = {"HTTP_HX_REQUEST": "true"}
PG = connection.vendor == "postgresql"
pg_only = pytest.mark.skipif(not PG, reason="a PostgreSQL feature (full text, pg_trgm)")
sqlite_only = pytest.mark.skipif(PG, reason="the SQLite fallback")


def shown_titles(response) -> list[str]:
    """Card titles in the order a person reads them."""
    body = response.content.decode()
    found = re.findall(r'class="card-title[^"]*"><a [^>]*>(.*?)</a>', body)
    return [html.unescape(title) for title in found]


def step(user, title, instructions="Do it.", usage=0, **content):
    return LibraryStepFactory(
        title=title,
        created_by=user,
        visibility=Visibility.TEAM,
        usage_count=usage,
        content={
            "instructions": instructions,
            "help_text": content.get("help_text", ""),
            "commands": content.get("commands", []),
            "group_label": "",
        },
    )


@pytest.fixture
def library(engineer):
    return {
        "title": step(engineer, "Check replication health", "Run the tool."),
        "instructions": step(
            engineer, "Domain controller checks", "Look at replication lag first.", usage=90
        ),
        "command": step(
            engineer,
            "Run the summary",
            "Open a shell.",
            usage=99,
            commands=[{"label": "Summary", "command": "repadmin /replication", "command_type": ""}],
        ),
        "other": step(engineer, "Restart the spooler", "Restart the print spooler.", usage=500),
    }


def test_an_exact_title_word_beats_instructions_and_commands(client, engineer, library):
    client.force_login(engineer)
    titles = shown_titles(client.get(INDEX, {"q": "replication"}, **HTMX))
    assert titles[0] == "Check replication health"  # the least used, but the title says it
    assert set(titles) == {"Check replication health", "Domain controller checks"} | (
        {"Run the summary"}  # commands are searched on both databases
    )
    if PG:  # weights: instructions (B) above commands (C)
        assert titles == ["Check replication health", "Domain controller checks", "Run the summary"]


def test_the_sort_control_keeps_most_used_and_defaults_to_best_match(client, engineer, library):
    client.force_login(engineer)
    body = client.get(INDEX, {"q": "replication"}).content.decode()
    assert '<option value="">Best match</option>' in body
    assert ">Most used</option>" in body and ">Recently changed</option>" in body
    by_use = shown_titles(client.get(INDEX, {"q": "replication", "ordering": "popular"}, **HTMX))
    assert by_use == ["Run the summary", "Domain controller checks", "Check replication health"]
    # Without a query, best match is the list's own order: most used first.
    assert shown_titles(client.get(INDEX, **HTMX))[0] == "Restart the spooler"


def test_the_api_and_the_insert_browser_rank_the_same(client, engineer, library):
    client.force_login(engineer)
    rows = client.get(LIST, {"q": "replication"}).json()["results"]
    assert rows[0]["title"] == "Check replication health"
    query = {"part": "results", "q": "replication", "choose_url": "/x/", "browser": "b1"}
    body = client.get(BROWSE, query, **HTMX).content.decode()
    assert body.index("Check replication health") < body.index("Domain controller checks")


def test_typing_finds_by_prefix(client, engineer, library):
    client.force_login(engineer)
    assert "Check replication health" in shown_titles(client.get(INDEX, {"q": "replic"}, **HTMX))
    assert shown_titles(client.get(INDEX, {"q": "restart spoo"}, **HTMX)) == ["Restart the spooler"]


@pytest.mark.parametrize(
    "text", ["'&|!():*\\", "a:* | !b", "' OR 1=1 --", "日本語 café", "<-> ( )", "%_%"]
)
def test_hostile_search_text_is_just_text(client, engineer, library, text):
    client.force_login(engineer)
    page = client.get(INDEX, {"q": text}, **HTMX)
    assert page.status_code == 200
    assert client.get(LIST, {"q": text}).status_code == 200


@pg_only
def test_a_typo_still_finds_the_step(client, engineer, library):
    client.force_login(engineer)
    titles = shown_titles(client.get(INDEX, {"q": "replciation"}, **HTMX))
    assert titles == ["Check replication health"]  # close spellings of titles
    assert shown_titles(client.get(INDEX, {"q": "zzqxv"}, **HTMX)) == []


@pg_only
def test_stemming_finds_other_forms_of_a_word(client, engineer, library):
    client.force_login(engineer)
    assert "Restart the spooler" in shown_titles(client.get(INDEX, {"q": "restarting"}, **HTMX))


@sqlite_only
def test_sqlite_puts_title_matches_first(client, engineer, library):
    client.force_login(engineer)
    titles = shown_titles(client.get(INDEX, {"q": "replication"}, **HTMX))
    assert titles[0] == "Check replication health"
    assert titles[1:] == ["Run the summary", "Domain controller checks"]  # then most used


def test_many_matches_are_counted_to_a_limit_and_tiered(client, engineer, monkeypatch):
    """Past RANK_LIMIT matches the page says "N+" and puts title matches first, most used
    first in each tier (ranking every row of a common word would not scale)."""
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    step(engineer, "Reset a password", "Use the portal.", usage=1)
    step(engineer, "Password expiry notice", "Tell the user.", usage=5)
    for n in range(3):
        step(engineer, f"Unlock account {n}", "Then reset the password.", usage=50 + n)
    client.force_login(engineer)
    response = client.get(INDEX, {"q": "password"}, **HTMX)
    assert "3+ steps" in response.content.decode()
    titles = shown_titles(response)
    assert titles[:2] == ["Password expiry notice", "Reset a password"]
    # The list stops one past the limit, as its count does: a search that broad is refined.
    assert titles[2:] == ["Unlock account 2", "Unlock account 1"]


def test_search_query_counts_do_not_grow_with_the_library(
    client, engineer, django_assert_max_num_queries
):
    client.force_login(engineer)
    for n in range(3):
        step(engineer, f"Reboot server {n}", "Reboot it.")
    client.get(INDEX, {"q": "reboot"}, **HTMX)  # warm (pg_trgm presence is asked once)
    with django_assert_max_num_queries(9) as few:
        client.get(INDEX, {"q": "reboot"}, **HTMX)
    LibraryStep.objects.bulk_create(
        LibraryStep(
            title=f"Reboot host {n}",
            created_by=engineer,
            account=engineer.account,
            visibility=Visibility.TEAM,
            search_text=f"reboot host {n}",
        )
        for n in range(60)
    )
    services.steps_search_refresh(steps=LibraryStep.objects.all())
    with django_assert_max_num_queries(9) as many:
        response = client.get(INDEX, {"q": "reboot"}, **HTMX)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert "63 steps" in response.content.decode()
    with django_assert_max_num_queries(9):
        client.get(INDEX, {"q": "reboot", "ordering": "recent"}, **HTMX)
    with django_assert_max_num_queries(9):
        client.get(INDEX, {"q": "zzzzqqq"}, **HTMX)  # nothing, then the typo look-up


# --- the stored vector follows every write path (PostgreSQL) --------------------------------


def found(user, text) -> set[str]:
    from steplibrary.filters import LibraryStepFilterSet
    from steplibrary.selectors import visible_steps

    results = LibraryStepFilterSet({"q": text}, queryset=visible_steps(user=user)).qs
    return {entry.title for entry in results[:50]}


@pg_only
def test_service_edits_and_tags_update_the_vector(engineer):
    entry = services.library_step_create(
        user=engineer, title="Clear the print queue", instructions="Stop the spooler."
    )
    assert found(engineer, "queue") == {"Clear the print queue"}
    services.library_step_update(step=entry, user=engineer, title="Empty the printer backlog")
    assert found(engineer, "queue") == set() and found(engineer, "backlog") == {entry.title}
    services.library_step_update(step=entry, user=engineer, tags=["hardware"])
    assert found(engineer, "hardware") == {entry.title}
    services.library_step_update(
        step=entry,
        user=engineer,
        commands=[{"label": "Purge", "command": "Remove-PrintJob -All", "command_type": "ps"}],
    )
    assert found(engineer, "PrintJob") == {entry.title}


@pg_only
def test_admin_saves_and_tag_renames_update_the_vector(staff, engineer):
    entry = step(engineer, "Map the shared drive", "Use net use.")
    admin = site._registry[LibraryStep]
    request = RequestFactory().post("/")
    request.user = staff
    entry.title = "Map the finance drive"
    admin.save_model(request, entry, form=None, change=True)
    assert found(engineer, "finance") == {"Map the finance drive"}
    tag = TagFactory(name="storage")
    entry.tags.add(tag)
    assert found(engineer, "storage") == {"Map the finance drive"}
    tag.name = "filers"
    tag.save()
    assert found(engineer, "filers") == {"Map the finance drive"}
    tag.delete()
    assert found(engineer, "filers") == set()


@pg_only
def test_the_sync_and_flow_tags_update_synced_entries(engineer, owner, procedure):
    assert "Check a licence is free" in found(engineer, "licence")
    flow_services.tree_update(tree=procedure, user=owner, tags=["onboarding"])
    assert found(engineer, "onboarding") >= {"Check a licence is free", "Create the user"}
    assert LibraryStep.objects.filter(source_tree=procedure, is_active=True).count() == 2


@pg_only
def test_many_typo_matches_are_listed_most_used_first(client, engineer, monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 1)
    step(engineer, "Check replication now", usage=1)
    step(engineer, "Replication report", usage=7)
    client.force_login(engineer)
    response = client.get(INDEX, {"q": "replciation"}, **HTMX)
    assert "1+ steps" in response.content.decode()
    assert shown_titles(response) == ["Replication report", "Check replication now"]


@pg_only
def test_the_sync_writes_the_same_vector_a_refresh_would(owner, procedure):
    """The upsert computes the vector from its values (no second write of every row); it must
    equal what the saved row gives, or searches would drift after the next edit."""
    flow_services.tree_update(tree=procedure, user=owner, tags=["onboarding", "m365"])
    flow_services.tree_set_active(tree=procedure, user=owner, active=True)
    from steplibrary import sync

    sync.steps_sync_from_tree(tree=Tree.objects.get(pk=procedure.pk))
    entries = LibraryStep.objects.filter(source_tree=procedure)
    upserted = dict(entries.values_list("pk", "search_vector"))
    services.steps_search_refresh(steps=entries)
    assert dict(entries.values_list("pk", "search_vector")) == upserted
    assert all(upserted.values())
