import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from flows import services as flow_services
from steplibrary.models import LibraryStep, Visibility
from tests.factories import CategoryFactory, LibraryStepFactory, TagFactory
from tests.steplibrary.conftest import synced

HTMX = {"HTTP_HX_REQUEST": "true"}
INDEX = reverse("steplibrary:index")
CREATE = reverse("steplibrary:create")
BROWSE = reverse("steplibrary:browse")


def url(name: str, step: LibraryStep) -> str:
    return reverse(f"steplibrary:{name}", args=[step.pk])


def form_data(**extra) -> dict:
    data = {
        "title": "Reset the Outlook profile",
        "step_type": "action",
        "instructions": "Create a new mail profile and make it the default.",
        "help_text": "",
        "group_label": "Client",
        "visibility": "private",
        "category": "Microsoft 365",
        "tags": "outlook, m365",
        "command_label": ["Open mail settings", ""],
        "command_text": ["control mlcfg32.cpl", ""],
        "command_type": ["cmd", "shell"],
    }
    data.update(extra)
    return data


# --- the page -------------------------------------------------------------------------------


def test_library_lists_what_the_user_may_see(
    client, engineer, team_step, private_step, rival_step, public_step, procedure
):
    client.force_login(engineer)
    body = client.get(INDEX).content.decode()
    assert team_step.title in body and public_step.title in body
    assert "Check a licence is free" in body
    assert private_step.title not in body  # a teammate's private entry
    assert rival_step.title not in body  # another account's team entry


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(INDEX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_synced_cards_show_the_badge_the_lock_and_the_source_flow(client, engineer, procedure):
    client.force_login(engineer)
    body = client.get(INDEX, {"synced": "true"}).content.decode()
    assert "From Flow" in body
    assert "Managed by source flow — fork to customize" in body
    assert "Sourced from:" in body and procedure.name in body
    assert reverse("flows:detail", args=[procedure.pk]) + "#node-licence" in body
    entry = synced(procedure, "licence")
    assert url("edit", entry) not in body and url("delete", entry) not in body
    assert f"{CREATE}?copy={entry.pk}" in body  # Save a copy


def test_a_deleted_source_flow_is_said_so(client, staff, procedure):
    procedure.delete()
    client.force_login(staff)
    body = client.get(INDEX, {"synced": "true", "is_active": "false"}).content.decode()
    assert "source flow deleted" in body


def test_hand_made_cards_offer_edit_and_delete_to_who_may(client, engineer, owner, team_step):
    client.force_login(engineer)
    body = client.get(INDEX).content.decode()
    assert url("edit", team_step) in body and url("delete", team_step) in body
    assert "Managed by source flow" not in body


def test_viewers_only_browse(client, viewer, team_step):
    client.force_login(viewer)
    body = client.get(INDEX).content.decode()
    assert team_step.title in body
    assert "New step" not in body and url("edit", team_step) not in body
    assert "Save a copy" not in body
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403
    assert client.post(url("edit", team_step), form_data()).status_code == 403
    assert client.post(url("delete", team_step)).status_code == 403
    assert LibraryStep.objects.filter(pk=team_step.pk).exists()


def test_htmx_filtering_returns_only_the_results(client, engineer, team_step, procedure):
    client.force_login(engineer)
    response = client.get(INDEX, {"q": "flushdns"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="library-filters"' not in body
    assert team_step.title in body and "Check a licence" not in body
    assert 'id="result-count"' in body


def test_page_filters(client, engineer, procedure, team_step):
    category, tag = CategoryFactory(name="Networking"), TagFactory(name="dns")
    team_step.category = category
    team_step.save()
    team_step.tags.set([tag])
    client.force_login(engineer)

    def titles(**params):
        return {s.title for s in client.get(INDEX, params).context["page"].object_list}

    both = {"Check a licence is free", "Create the user"}
    assert titles(q="licence") == {"Check a licence is free"}
    assert titles(step_type="action") == both | {team_step.title}
    assert titles(visibility="team") == both | {team_step.title}
    assert titles(synced="false") == {team_step.title}
    assert titles(source_tree=str(procedure.pk)) == both
    assert titles(category="networking") == {team_step.title}
    assert titles(tag="dns") == {team_step.title}
    assert titles(step_type="nonsense") == both | {team_step.title}  # bad filters are ignored
    kept = client.get(INDEX, {"synced": "false", "category": "networking"}).content.decode()
    assert '<option value="false" selected>Hand-made' in kept  # the form shows what is set
    assert '<option value="networking" selected>' in kept


def test_filter_choices_show_only_what_the_user_can_see(client, engineer, rival_procedure):
    rival_procedure.category = CategoryFactory(name="Rival secret category")
    rival_procedure.save()
    rival_procedure.tags.set([TagFactory(name="rival-secret-tag")])
    client.force_login(engineer)
    body = client.get(INDEX).content.decode()
    assert "Rival secret" not in body


def test_pagination_keeps_the_filters(client, engineer):
    LibraryStepFactory.create_batch(30, created_by=engineer, title="Patch it")
    client.force_login(engineer)
    body = client.get(INDEX, {"q": "patch"}).content.decode()
    assert "q=patch&amp;page=2" in body


def test_page_query_count_is_constant(client, engineer, account, django_assert_max_num_queries):
    tag, category = TagFactory(name="citrix"), CategoryFactory(name="Citrix")
    client.force_login(engineer)

    def make(count):
        for step in LibraryStepFactory.create_batch(count, created_by=engineer, tags=[tag]):
            step.category = category
            step.save()

    make(3)
    with django_assert_max_num_queries(12) as few:
        client.get(INDEX)
    make(200)
    with django_assert_max_num_queries(12) as many:
        response = client.get(INDEX)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert response.context["page"].paginator.count == 203


def test_empty_library_says_what_to_do_next(client, engineer):
    client.force_login(engineer)
    body = client.get(INDEX).content.decode()
    assert "Publishing a flow adds its steps here" in body
    assert "No library step matches" in client.get(INDEX, {"q": "zzz"}).content.decode()


# --- detail ---------------------------------------------------------------------------------


def test_detail_is_a_modal_for_htmx_and_a_page_otherwise(client, engineer, team_step):
    client.force_login(engineer)
    modal = client.get(url("detail", team_step), **HTMX).content.decode()
    assert "<html" not in modal and "ipconfig /flushdns" in modal and "modal-header" in modal
    page = client.get(url("detail", team_step)).content.decode()
    assert "<html" in page and "ipconfig /flushdns" in page


@pytest.mark.parametrize("view", ["detail", "edit", "delete"])
def test_entries_you_may_not_see_are_404_for_every_view(
    client, outsider, engineer, view, team_step, private_step
):
    client.force_login(outsider)
    assert client.get(url(view, team_step)).status_code == 404
    assert client.get(url(view, team_step), **HTMX).status_code == 404
    client.force_login(engineer)
    assert client.get(url(view, private_step), **HTMX).status_code == 404
    if view != "detail":
        assert client.post(url(view, private_step), form_data(), **HTMX).status_code == 404


# --- create / edit / delete in the modal ----------------------------------------------------


def test_create_in_the_modal_saves_and_tells_the_page(client, engineer):
    client.force_login(engineer)
    form = client.get(CREATE, **HTMX).content.decode()
    assert "<html" not in form and 'name="command_text"' in form
    response = client.post(CREATE, form_data(), **HTMX)
    assert response.status_code == 204
    event = json.loads(response["HX-Trigger"])["libraryStepSaved"]
    step = LibraryStep.objects.get(title="Reset the Outlook profile")
    assert event["id"] == str(step.pk) and "saved" in event["message"]
    assert step.created_by == engineer and step.visibility == Visibility.PRIVATE
    assert step.commands == [
        {"label": "Open mail settings", "command": "control mlcfg32.cpl", "command_type": "cmd"}
    ]
    assert sorted(t.slug for t in step.tags.all()) == ["m365", "outlook"]


def test_create_without_htmx_redirects_with_a_message(client, engineer):
    client.force_login(engineer)
    response = client.post(CREATE, form_data(), follow=True)
    assert response.redirect_chain[-1][0] == INDEX
    assert "saved to your library" in response.content.decode()


def test_field_errors_show_in_the_modal_and_nothing_is_saved(client, engineer):
    client.force_login(engineer)
    response = client.post(
        CREATE,
        form_data(
            title="",
            instructions="",
            visibility="galaxy",
            command_label=["Orphan label"],
            command_text=[""],
            command_type=["cmd"],
        ),
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 422 and "<html" not in body
    assert 'id="id_title-errors"' in body and 'id="id_instructions-errors"' in body
    assert 'id="id_visibility-errors"' in body
    assert 'id="commands-errors"' in body and "has no command text" in body
    assert 'value="Orphan label"' in body  # what was typed is kept
    assert not LibraryStep.objects.exists()


def test_service_errors_land_on_their_fields(client, staff):
    client.force_login(staff)
    response = client.post(CREATE, form_data(visibility="team"), **HTMX)
    assert response.status_code == 422
    assert 'id="id_visibility-errors"' in response.content.decode()
    assert not LibraryStep.objects.exists()


def test_edit_in_the_modal(client, engineer, team_step):
    client.force_login(engineer)
    form = client.get(url("edit", team_step), **HTMX).content.decode()
    assert 'value="Flush the DNS cache"' in form and "ipconfig /flushdns" in form
    response = client.post(url("edit", team_step), form_data(title="Flush DNS"), **HTMX)
    assert response.status_code == 204
    team_step.refresh_from_db()
    assert team_step.title == "Flush DNS"


def test_editing_a_synced_entry_explains_and_offers_a_copy(client, owner, procedure):
    entry = synced(procedure, "licence")
    client.force_login(owner)
    shown = client.get(url("edit", entry), **HTMX)
    body = shown.content.decode()
    assert shown.status_code == 200 and "managed by its source flow" in body
    assert f"{CREATE}?copy={entry.pk}" in body
    for refused in (
        client.post(url("edit", entry), form_data(), **HTMX),
        client.post(url("delete", entry), **HTMX),
    ):
        assert refused.status_code == 400
        # htmx swaps no error body: the reason reaches the person as a toast.
        assert (
            "managed by its source flow" in json.loads(refused["HX-Trigger"])["rf:toast"]["message"]
        )
    entry.refresh_from_db()
    assert entry.title == "Check a licence is free"


def test_delete_asks_first_then_deletes(client, engineer, team_step):
    client.force_login(engineer)
    confirm = client.get(url("delete", team_step), **HTMX).content.decode()
    assert "cannot be undone" in confirm and "<html" not in confirm
    response = client.post(url("delete", team_step), **HTMX)
    assert response.status_code == 204 and "libraryStepDeleted" in response["HX-Trigger"]
    assert not LibraryStep.objects.filter(pk=team_step.pk).exists()


def test_engineers_cannot_delete_a_teammates_shared_entry(client, account, owner):
    entry = LibraryStepFactory(created_by=owner, visibility="team")
    from tests.factories import UserFactory

    colleague = UserFactory(account=account)
    client.force_login(colleague)
    assert client.post(url("delete", entry), **HTMX).status_code == 403
    assert LibraryStep.objects.filter(pk=entry.pk).exists()


# --- save to library ------------------------------------------------------------------------


def test_save_a_copy_opens_the_modal_prefilled_and_private(client, engineer, procedure):
    entry = synced(procedure, "licence")
    client.force_login(engineer)
    body = client.get(CREATE, {"copy": entry.pk}, **HTMX).content.decode()
    assert 'value="Check a licence is free"' in body
    assert "Get-MgSubscribedSku" in body and 'value="Preparation"' in body
    assert '<option value="private" selected>' in body
    assert "personal copy" in body
    response = client.post(CREATE, form_data(title="My licence check"), **HTMX)
    assert response.status_code == 204
    copy = LibraryStep.objects.get(title="My licence check")
    assert not copy.is_flow_synced and copy.source_tree is None and copy.created_by == engineer


def test_save_to_library_from_a_flow_step_is_prefilled_from_the_node(client, engineer, procedure):
    client.force_login(engineer)
    query = {"tree": procedure.pk, "node": "new-user"}
    body = client.get(CREATE, query, **HTMX).content.decode()
    assert 'value="Create the user"' in body
    assert "New-MgUser -DisplayName" in body and 'value="Create the account"' in body
    assert procedure.name in body


@pytest.mark.parametrize(
    "query",
    [
        {"tree": "rival"},
        {"tree": "own", "node": "missing"},
        {"tree": "not-a-uuid", "node": "x"},
        {"copy": "not-a-uuid"},
        {"copy": "rival"},
    ],
)
def test_prefill_from_what_you_may_not_see_is_404(
    client, engineer, procedure, rival_procedure, rival_step, query
):
    resolved = dict(query)
    if query.get("tree") == "rival":
        resolved = {"tree": rival_procedure.pk, "node": "secret"}
    elif query.get("tree") == "own":
        resolved["tree"] = procedure.pk
    elif query.get("copy") == "rival":
        resolved["copy"] = rival_step.pk
    client.force_login(engineer)
    assert client.get(CREATE, resolved, **HTMX).status_code == 404


def test_flow_detail_offers_save_to_library_to_engineers_only(client, engineer, viewer, procedure):
    detail = reverse("flows:detail", args=[procedure.pk])
    client.force_login(engineer)
    body = client.get(detail).content.decode()
    assert body.count("Save to library") == 2
    assert 'id="library-modal"' in body
    assert f"{CREATE}?tree={procedure.pk}&amp;node=licence" in body
    client.force_login(viewer)
    body = client.get(detail).content.decode()
    assert "Save to library" not in body and 'id="library-modal"' not in body


def test_troubleshooting_detail_offers_it_on_actions_and_solutions(
    client, engineer, account, owner
):
    from tests.factories import TreeFactory

    tree = TreeFactory(account=account, author=owner)
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[tree.pk])).content.decode()
    assert body.count("Save to library") == 2
    assert "node=root" not in body


# --- the embeddable browser -----------------------------------------------------------------


def test_browser_renders_choose_buttons_posting_to_the_given_url(
    client, engineer, team_step, rival_step
):
    client.force_login(engineer)
    query = {"choose_url": "/sessions/abc/custom-steps/", "choose_label": "Insert", "browser": "b1"}
    body = client.get(BROWSE, query, **HTMX).content.decode()
    assert "<html" not in body and 'id="b1"' in body and 'id="b1-results"' in body
    assert 'hx-post="/sessions/abc/custom-steps/"' in body
    assert f'"library_step": "{team_step.pk}"' in body and ">Insert" in body
    assert rival_step.title not in body


def test_browser_results_part_filters_in_place(client, engineer, team_step, procedure):
    client.force_login(engineer)
    query = {"part": "results", "q": "licence", "choose_url": "/x/", "browser": "b1"}
    body = client.get(BROWSE, query, **HTMX).content.decode()
    assert 'id="b1-results"' not in body and "<form" not in body
    assert "Check a licence is free" in body and team_step.title not in body


def test_browser_next_page_keeps_the_search_and_asks_for_results_only(client, engineer):
    LibraryStepFactory.create_batch(12, created_by=engineer, title="Patch it")
    client.force_login(engineer)
    query = {"q": "patch", "choose_url": "/x/", "browser": "b1", "page": "1"}
    body = client.get(BROWSE, query, **HTMX).content.decode()
    assert (
        f'hx-get="{BROWSE}?q=patch&amp;choose_url=%2Fx%2F&amp;browser=b1&amp;page=2&amp;part=results"'
        in body
    )
    assert "Previous</button>" not in body and "1–10 of 12" in body


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/steal", "//evil.example/x", "javascript:alert(1)"]
)
def test_browser_ignores_choose_urls_off_this_site(client, engineer, team_step, unsafe):
    client.force_login(engineer)
    body = client.get(BROWSE, {"choose_url": unsafe}, **HTMX).content.decode()
    assert "evil" not in body and "javascript:" not in body
    assert "hx-post" not in body


def test_browser_query_count_is_constant(client, engineer, django_assert_max_num_queries):
    client.force_login(engineer)
    LibraryStepFactory.create_batch(3, created_by=engineer)
    query = urlencode({"part": "results", "choose_url": "/x/"})
    with django_assert_max_num_queries(8) as few:
        client.get(f"{BROWSE}?{query}", **HTMX)
    LibraryStepFactory.create_batch(100, created_by=engineer)
    with django_assert_max_num_queries(8) as many:
        client.get(f"{BROWSE}?{query}", **HTMX)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_retired_flows_leave_the_page(client, engineer, owner, procedure):
    flow_services.tree_set_active(tree=procedure, user=owner, active=False)
    client.force_login(engineer)
    assert "Check a licence is free" not in client.get(INDEX).content.decode()


def test_no_template_comment_leaks_into_the_page(client, engineer):
    client.force_login(engineer)
    body = client.get("/library/").content.decode()
    assert "{#" not in body and "#}" not in body
