import pytest
from django.urls import reverse

from flows.models import Tree, TreeStatus, TreeType
from tests.factories import CategoryFactory, TagFactory, TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(tree: Tree) -> str:
    return reverse("flows:detail", args=[tree.pk])


def test_library_lists_public_and_own_published_flows_only(
    client, engineer, own_flow, own_draft, rival_flow, public_flow
):
    client.force_login(engineer)
    body = client.get(reverse("flows:library")).content.decode()
    assert own_flow.name in body and public_flow.name in body
    assert rival_flow.name not in body
    assert own_draft.name not in body  # drafts live in My flows, not the library


def test_library_hides_retired_flows(client, engineer, own_flow):
    own_flow.is_active = False
    own_flow.save()
    client.force_login(engineer)
    assert own_flow.name not in client.get(reverse("flows:library")).content.decode()


def test_library_filters_by_text_type_category_and_tag(client, engineer, account, owner):
    citrix = CategoryFactory(name="Citrix")
    vpn = TagFactory(name="vpn")
    TreeFactory(name="VDA not registering", account=account, author=owner, category=citrix)
    TreeFactory(
        name="Patch RDS hosts",
        account=account,
        author=owner,
        tree_type=TreeType.MAINTENANCE,
        tags=[vpn],
    )
    client.force_login(engineer)
    url = reverse("flows:library")

    def names(**params):
        page = client.get(url, params).context["page"]
        return {t.name for t in page.object_list}

    assert names(q="vda") == {"VDA not registering"}
    assert names(q="registering vda") == {"VDA not registering"}
    assert names(tree_type="maintenance") == {"Patch RDS hosts"}
    assert names(category="citrix") == {"VDA not registering"}
    assert names(tag="vpn") == {"Patch RDS hosts"}
    assert names(q="nothing-like-this") == set()


def test_library_htmx_request_gets_only_the_results_fragment(client, engineer, own_flow):
    client.force_login(engineer)
    response = client.get(reverse("flows:library"), {"q": "vpn"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="result-count"' in body and own_flow.name in body
    assert 'id="results"' not in body  # swapped into #results: no wrapper nested inside it


def test_library_query_count_does_not_grow_with_flows(
    client, engineer, account, owner, django_assert_max_num_queries
):
    tag = TagFactory(name="citrix")
    category = CategoryFactory(name="Citrix")
    client.force_login(engineer)
    url = reverse("flows:library")
    TreeFactory.create_batch(3, account=account, author=owner, tags=[tag], category=category)
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    TreeFactory.create_batch(200, account=account, author=owner, tags=[tag], category=category)
    with django_assert_max_num_queries(9) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.context["page"].paginator.count == 203


def test_my_flows_shows_drafts_to_engineers_and_nothing_of_other_accounts(
    client, engineer, own_draft, rival_flow, public_flow
):
    client.force_login(engineer)
    body = client.get(reverse("flows:mine")).content.decode()
    assert own_draft.name in body
    assert rival_flow.name not in body and public_flow.name not in body


def test_detail_renders_checklist_steps_with_commands_and_copy_buttons(client, viewer, public_flow):
    client.force_login(viewer)
    body = client.get(detail_url(public_flow)).content.decode()
    assert "Take a snapshot" in body and "Preparation" in body
    assert "Get-VM" in body and "data-copy-target" in body


def test_detail_renders_the_tree_outline_with_option_targets(client, engineer, own_flow):
    client.force_login(engineer)
    body = client.get(detail_url(own_flow)).content.decode()
    assert "Does the tunnel show as down on both peers?" in body
    assert 'href="#node-restart"' in body and "Tunnel restored" in body


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_detail_of_a_flow_you_may_not_see_is_404(client, request, who, own_flow, own_draft):
    client.force_login(request.getfixturevalue(who))
    target = own_flow if who == "outsider" else own_draft
    assert client.get(detail_url(target)).status_code == 404


def test_anonymous_detail_redirects_to_login(client, own_flow):
    response = client.get(detail_url(own_flow))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_publish_page_action_tenancy(client, viewer, outsider, engineer, own_draft):
    url = reverse("flows:publish", args=[own_draft.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    client.force_login(viewer)
    assert client.post(url).status_code == 404  # a viewer cannot even see drafts
    own_draft.refresh_from_db()
    assert own_draft.status == TreeStatus.DRAFT
    client.force_login(engineer)
    assert client.post(url).status_code == 302
    own_draft.refresh_from_db()
    assert own_draft.status == TreeStatus.PUBLISHED


def test_viewer_gets_403_for_writes_on_a_flow_they_can_see(client, viewer, own_flow):
    client.force_login(viewer)
    assert client.post(reverse("flows:unpublish", args=[own_flow.pk])).status_code == 403
    assert client.post(reverse("flows:retire", args=[own_flow.pk])).status_code == 403
    assert client.get(reverse("flows:edit", args=[own_flow.pk])).status_code == 403
    assert client.get(reverse("flows:create")).status_code == 403


def test_publish_refusal_lists_errors_next_to_the_nodes(client, engineer, account):
    tree = TreeFactory(
        account=account,
        author=engineer,
        status=TreeStatus.DRAFT,
        tree_structure={
            "id": "root",
            "type": "decision",
            "question": "Up?",
            "options": [{"label": "No", "next_node_id": "ghost"}],
            "children": [{"id": "fix", "type": "action", "title": "Fix it"}],
        },
    )
    client.force_login(engineer)
    response = client.post(reverse("flows:publish", args=[tree.pk]))
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="publish-errors"' in body
    assert 'href="#node-root"' in body and 'href="#node-fix"' in body
    assert "ghost" in body
    tree.refresh_from_db()
    assert tree.status == TreeStatus.DRAFT


def test_retire_and_reactivate_from_my_flows(client, engineer, own_flow):
    client.force_login(engineer)
    response = client.post(reverse("flows:retire", args=[own_flow.pk]), {"next": "mine"})
    assert response.status_code == 302 and response["Location"] == reverse("flows:mine")
    own_flow.refresh_from_db()
    assert not own_flow.is_active
    client.post(reverse("flows:reactivate", args=[own_flow.pk]))
    own_flow.refresh_from_db()
    assert own_flow.is_active


def test_create_form_makes_a_draft_and_shows_json_errors_next_to_the_field(client, engineer):
    client.force_login(engineer)
    url = reverse("flows:create")
    bad = client.post(
        url, {"name": "X", "tree_type": "procedural", "tree_structure": '{"steps": [,]}'}
    )
    assert bad.status_code == 200
    assert "tree_structure" in bad.context["form"].errors
    assert not Tree.objects.filter(name="X").exists()
    good = client.post(url, {"name": "New runbook", "tree_type": "procedural", "tags": "a, b"})
    tree = Tree.objects.get(name="New runbook")
    assert good.status_code == 302 and tree.status == TreeStatus.DRAFT
    assert tree.account == engineer.account


def test_json_edit_form_saves_structure_changes(client, engineer, own_draft):
    client.force_login(engineer)
    response = client.post(
        reverse("flows:edit_json", args=[own_draft.pk]),
        {
            "name": "Renamed",
            "description": "",
            "tree_structure": '{"id": "root", "type": "decision", "question": "Up?"}',
            "intake_form": "[]",
        },
    )
    assert response.status_code == 302
    own_draft.refresh_from_db()
    assert own_draft.name == "Renamed"
    assert own_draft.tree_structure == {"id": "root", "type": "decision", "question": "Up?"}
    assert own_draft.tree_type == TreeType.TROUBLESHOOTING  # the type cannot change


def test_filter_choices_never_show_another_teams_categories_or_tags(
    client, engineer, outsider, other_account
):
    secret = CategoryFactory(name="Rival Secret Project")
    hidden_tag = TagFactory(name="rival-codename")
    TreeFactory(account=other_account, author=outsider, category=secret, tags=[hidden_tag])
    client.force_login(engineer)
    for url in (reverse("flows:library"), reverse("flows:mine")):
        body = client.get(url).content.decode()
        assert "Rival Secret Project" not in body and "rival-codename" not in body
    from tests.conftest import api_as

    response = api_as(engineer).get("/api/flows/", {"category": secret.slug})
    assert response.status_code == 400  # not a choice for this user: nothing confirmed
