import pytest

from flows.models import Tree, TreeStatus
from tests.conftest import api_as
from tests.factories import CategoryFactory, TagFactory, TreeFactory, procedural_structure

LIST = "/api/flows/"


def detail(tree: Tree, suffix: str = "") -> str:
    return f"/api/flows/{tree.pk}/{suffix}"


def test_anonymous_gets_401(api, own_flow):
    assert api.get(LIST).status_code == 401
    assert api.get(detail(own_flow)).status_code == 401
    assert api.post(detail(own_flow, "publish/")).status_code == 401


def test_list_shows_public_and_own_flows_only(
    engineer, own_flow, own_draft, rival_flow, public_flow
):
    names = {row["name"] for row in api_as(engineer).get(LIST).json()["results"]}
    assert names == {own_flow.name, own_draft.name, public_flow.name}


def test_list_filters_match_the_library_page(engineer, account, owner):
    vpn = TagFactory(name="vpn")
    net = CategoryFactory(name="Networking")
    TreeFactory(name="Tunnel down", account=account, author=owner, tags=[vpn], category=net)
    TreeFactory(name="Patch hosts", account=account, author=owner, tree_type="maintenance")
    api = api_as(engineer)

    def names(**params):
        return {row["name"] for row in api.get(LIST, params).json()["results"]}

    assert names(q="tunnel") == {"Tunnel down"}
    assert names(tag="vpn") == {"Tunnel down"}
    assert names(category="networking") == {"Tunnel down"}
    assert names(tree_type="maintenance") == {"Patch hosts"}
    assert api.get(LIST, {"tree_type": "bogus"}).status_code == 400


def test_outsider_gets_404_on_detail_update_and_publish(outsider, own_flow, own_draft):
    api = api_as(outsider)
    assert api.get(detail(own_flow)).status_code == 404
    assert api.patch(detail(own_flow), {"name": "pwned"}, format="json").status_code == 404
    assert api.post(detail(own_draft, "publish/")).status_code == 404
    own_flow.refresh_from_db()
    assert own_flow.name != "pwned"


def test_viewer_cannot_write(viewer, own_flow):
    api = api_as(viewer)
    assert api.get(detail(own_flow)).status_code == 200
    assert api.patch(detail(own_flow), {"name": "x"}, format="json").status_code == 403
    assert api.post(detail(own_flow, "unpublish/")).status_code == 403
    created = api.post(LIST, {"name": "x", "tree_type": "procedural"}, format="json")
    assert created.status_code == 403


def test_engineer_creates_updates_and_publishes(engineer):
    api = api_as(engineer)
    response = api.post(
        LIST,
        {
            "name": "Onboard user",
            "tree_type": "procedural",
            "category": "Microsoft 365",
            "tags": ["m365", "onboarding"],
            "tree_structure": procedural_structure(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["category"] == "Microsoft 365"
    assert sorted(body["tags"]) == ["m365", "onboarding"]
    tree = Tree.objects.get(pk=body["id"])
    assert tree.account == engineer.account and tree.author == engineer

    patched = api.patch(detail(tree), {"description": "Day-one setup"}, format="json")
    assert patched.status_code == 200 and patched.json()["description"] == "Day-one setup"

    published = api.post(detail(tree, "publish/"))
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert api.post(detail(tree, "unpublish/")).json()["status"] == "draft"
    assert api.post(detail(tree, "retire/")).json()["is_active"] is False


def test_publish_of_an_invalid_flow_is_400_with_node_errors(engineer, own_draft):
    own_draft.tree_structure = {"id": "root", "type": "decision", "question": "?"}
    own_draft.save()
    response = api_as(engineer).post(detail(own_draft, "publish/"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all({"node_id", "field", "message"} <= set(e) for e in errors)
    assert any(e["node_id"] == "root" for e in errors)
    # The same plain words as the editor: the node by its heading, and what to do.
    messages = {e["message"] for e in errors}
    assert (
        "'?' has no answers yet: add at least one, e.g. 'Yes' and 'No', and pick where each leads."
        in messages
    )
    assert (
        "The flow has no solution yet: add at least one solution where the troubleshooting ends."
        in messages
    )
    own_draft.refresh_from_db()
    assert own_draft.status == TreeStatus.DRAFT


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"tree_type": "procedural"}, "name"),
        ({"name": "x", "tree_type": "nonsense"}, "tree_type"),
        ({"name": "x" * 300, "tree_type": "procedural"}, "name"),
        ({"name": "x", "tree_type": "procedural", "tags": "not-a-list"}, "tags"),
    ],
)
def test_create_validation_errors_are_400_with_field_messages(engineer, payload, field):
    response = api_as(engineer).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_structure_that_is_not_an_object_is_400(engineer):
    response = api_as(engineer).post(
        LIST, {"name": "x", "tree_type": "procedural", "tree_structure": [1, 2]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Tree.objects.filter(name="x").exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"name": "x", "tree_type": "procedural", "tree_structure": '
        + b"[" * 50000
        + b"]" * 50000
        + b"}",
        b'{"name": "' + b"x" * 2_100_000 + b'"}',
    ],
    ids=["malformed", "deeply-nested", "oversized"],
)
def test_hostile_json_bodies_are_400_never_500(engineer, body):
    response = api_as(engineer).generic("POST", LIST, body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_type_cannot_change_on_update(engineer, own_flow):
    response = api_as(engineer).patch(detail(own_flow), {"tree_type": "procedural"}, format="json")
    assert response.status_code == 400 and "tree_type" in response.json()


def test_list_query_count_is_constant(engineer, account, owner, django_assert_max_num_queries):
    tag, category = TagFactory(name="ops"), CategoryFactory(name="Ops")
    api = api_as(engineer)
    TreeFactory.create_batch(3, account=account, author=owner, tags=[tag], category=category)
    with django_assert_max_num_queries(4) as few:
        api.get(LIST)
    TreeFactory.create_batch(200, account=account, author=owner, tags=[tag], category=category)
    with django_assert_max_num_queries(4) as many:
        response = api.get(LIST)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert response.json()["count"] == 203


def test_schema_and_docs_are_served_from_local_assets(client, engineer):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/flows/" in schema.content
    client.force_login(engineer)
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs
