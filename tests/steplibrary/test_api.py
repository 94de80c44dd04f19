import pytest

from steplibrary.models import LibraryStep, Visibility
from tests.conftest import api_as
from tests.factories import CategoryFactory, LibraryStepFactory, TagFactory
from tests.steplibrary.conftest import synced

LIST = "/api/steps/"


def detail(step: LibraryStep, suffix: str = "") -> str:
    return f"/api/steps/{step.pk}/{suffix}"


def payload(**extra) -> dict:
    body = {
        "title": "Clear the Teams cache",
        "step_type": "action",
        "visibility": "team",
        "content": {
            "instructions": "Quit Teams and delete its cache folder.",
            "help_text": "Teams starts clean.",
            "commands": [
                {
                    "label": "Clear",
                    "command": 'Remove-Item "$env:APPDATA\\Microsoft\\Teams" -Recurse',
                    "command_type": "powershell",
                }
            ],
            "group_label": "Client",
        },
        "category": "Microsoft 365",
        "tags": ["teams"],
    }
    body.update(extra)
    return body


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_gets_401(api, team_step):
    assert api.get(LIST).status_code == 401
    assert api.get(detail(team_step)).status_code == 401
    assert api.post(LIST, payload(), format="json").status_code == 401


def test_list_tenancy_private_team_and_public(
    engineer, owner, outsider, team_step, private_step, rival_step, public_step
):
    assert ids(api_as(engineer).get(LIST)) == {str(team_step.pk), str(public_step.pk)}
    assert ids(api_as(owner).get(LIST)) >= {str(private_step.pk)}
    assert ids(api_as(outsider).get(LIST)) == {str(rival_step.pk), str(public_step.pk)}


@pytest.mark.parametrize("who", ["outsider", "engineer"])
def test_entries_you_may_not_see_are_404_for_every_verb(request, who, team_step, private_step):
    user = request.getfixturevalue(who)
    target = team_step if who == "outsider" else private_step  # a teammate's private entry
    api = api_as(user)
    assert api.get(detail(target)).status_code == 404
    assert api.patch(detail(target), {"title": "pwned"}, format="json").status_code == 404
    assert api.put(detail(target), payload(), format="json").status_code == 404
    assert api.delete(detail(target)).status_code == 404
    assert api.post(detail(target, "copy/")).status_code == 404
    target.refresh_from_db()
    assert target.title != "pwned"


def test_viewer_reads_but_cannot_write(viewer, team_step, procedure):
    api = api_as(viewer)
    assert api.get(detail(team_step)).status_code == 200
    assert api.post(LIST, payload(), format="json").status_code == 403
    assert api.patch(detail(team_step), {"title": "x"}, format="json").status_code == 403
    assert api.delete(detail(team_step)).status_code == 403
    assert api.post(detail(team_step, "copy/")).status_code == 403
    entry = synced(procedure, "licence")
    assert api.patch(detail(entry), {"title": "x"}, format="json").status_code == 403


def test_engineer_creates_reads_updates_and_deletes(engineer):
    api = api_as(engineer)
    response = api.post(LIST, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["visibility"] == "team" and body["is_flow_synced"] is False
    assert body["created_by"] == engineer.email
    assert body["content"]["commands"][0]["command_type"] == "powershell"
    assert body["category"] == "Microsoft 365" and body["tags"] == ["teams"]
    step = LibraryStep.objects.get(pk=body["id"])

    patched = api.patch(detail(step), {"content": {"help_text": "Signs in again."}}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["content"]["help_text"] == "Signs in again."
    assert patched.json()["content"]["instructions"] == payload()["content"]["instructions"]

    put = api.put(detail(step), payload(title="Reset Teams"), format="json")
    assert put.status_code == 200 and put.json()["title"] == "Reset Teams"
    assert api.delete(detail(step)).status_code == 204
    assert not LibraryStep.objects.filter(pk=step.pk).exists()


def test_created_entries_default_to_private(engineer):
    body = payload()
    del body["visibility"]
    response = api_as(engineer).post(LIST, body, format="json")
    assert response.status_code == 201 and response.json()["visibility"] == "private"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 300}, "title"),
        ({"step_type": "decision"}, "step_type"),
        ({"visibility": "everyone"}, "visibility"),
        ({"content": {"help_text": "no instructions"}}, "content"),
        ({"content": "not an object"}, "content"),
        ({"content": {"instructions": "x", "commands": [{"label": "no code"}]}}, "content"),
        ({"content": {"instructions": "x", "commands": "dir"}}, "content"),
        ({"tags": "not-a-list"}, "tags"),
    ],
)
def test_bad_input_is_400_with_field_messages(engineer, change, field):
    response = api_as(engineer).post(LIST, payload(**change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not LibraryStep.objects.exists()


def test_service_rules_are_400_with_field_messages_too(staff):
    response = api_as(staff).post(LIST, payload(visibility="team"), format="json")
    assert response.status_code == 400 and "visibility" in response.json()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_synced_entries_answer_400_managed_by_the_source_flow(owner, procedure, method):
    entry = synced(procedure, "licence")
    api = api_as(owner)
    response = getattr(api, method)(detail(entry), payload(), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "managed_by_source_flow"
    assert "managed by its source flow" in body["detail"]
    assert "Onboard a Microsoft 365 user" in body["detail"]
    assert f"/api/steps/{entry.pk}/copy/" in body["detail"]
    entry.refresh_from_db()
    assert entry.title == "Check a licence is free" and entry.is_active


def test_copy_makes_a_personal_entry_with_overrides(engineer, procedure):
    entry = synced(procedure, "licence")
    response = api_as(engineer).post(detail(entry, "copy/"), {"title": "My licence check"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] != str(entry.pk)
    assert body["title"] == "My licence check"
    assert body["visibility"] == "private"
    assert body["is_flow_synced"] is False and body["source_tree"] is None
    assert body["created_by"] == engineer.email
    assert body["content"] == {**entry.content}
    copy = api_as(engineer).patch(f"/api/steps/{body['id']}/", {"title": "Edited"}, format="json")
    assert copy.status_code == 200


def test_copy_validates_overrides(engineer, team_step):
    response = api_as(engineer).post(
        detail(team_step, "copy/"), {"visibility": "galaxy"}, format="json"
    )
    assert response.status_code == 400 and "visibility" in response.json()


def test_synced_entries_name_their_flow_only_to_who_may_see_it(engineer, outsider, procedure):
    # A public entry of a team flow (as staff could make by hand before issue 10).
    entry = synced(procedure, "licence")
    LibraryStep.objects.filter(pk=entry.pk).update(visibility="public")
    mine = api_as(engineer).get(detail(entry)).json()
    assert mine["source_tree"] == str(procedure.pk)
    assert mine["source_tree_name"] == procedure.name
    theirs = api_as(outsider).get(detail(entry)).json()
    assert theirs["source_tree"] is None and theirs["source_tree_name"] is None


def test_filters_and_search(engineer, account, owner, procedure, team_step):
    category, tag = CategoryFactory(name="Networking"), TagFactory(name="dns")
    team_step.category = category
    team_step.save()
    team_step.tags.set([tag])
    procedure.category = CategoryFactory(name="Microsoft 365")
    procedure.save()
    procedure.tags.set([TagFactory(name="m365")])
    solution = LibraryStepFactory(title="It works", created_by=engineer, step_type="solution")
    api = api_as(engineer)

    def titles(**params):
        response = api.get(LIST, params)
        assert response.status_code == 200, response.json()
        return {row["title"] for row in response.json()["results"]}

    assert titles(q="flush") == {"Flush the DNS cache"}  # title
    assert titles(q="resolver") == {"Flush the DNS cache"}  # instructions
    assert titles(q="ipconfig /FLUSHDNS") == {"Flush the DNS cache"}  # command, any case
    assert titles(q="Get-MgSubscribedSku") == {"Check a licence is free"}
    assert titles(step_type="solution") == {solution.title}
    assert titles(synced="true") == {"Check a licence is free", "Create the user"}
    assert titles(synced="false") == {"Flush the DNS cache", solution.title}
    assert titles(source_tree=str(procedure.pk)) == {"Check a licence is free", "Create the user"}
    assert titles(category="networking") == {"Flush the DNS cache"}
    assert titles(category="microsoft-365") == {"Check a licence is free", "Create the user"}
    assert titles(tag="dns") == {"Flush the DNS cache"}
    assert titles(tag="m365") == {"Check a licence is free", "Create the user"}
    assert titles(visibility="private") == set()
    assert api.get(LIST, {"step_type": "bogus"}).status_code == 400


def test_inactive_entries_are_listed_only_on_request_but_readable_by_id(engineer, owner, procedure):
    from flows import services as flow_services

    flow_services.tree_set_active(tree=procedure, user=owner, active=False)
    api = api_as(engineer)
    assert ids(api.get(LIST)) == set()
    assert len(ids(api.get(LIST, {"is_active": "false"}))) == 2
    assert api.get(detail(synced(procedure, "licence"))).status_code == 200


def test_list_query_count_is_constant(engineer, account, django_assert_max_num_queries):
    tag, category = TagFactory(name="ops"), CategoryFactory(name="Ops")
    api = api_as(engineer)

    def make(count):
        for step in LibraryStepFactory.create_batch(count, created_by=engineer, tags=[tag]):
            step.category = category
            step.save()

    make(3)
    with django_assert_max_num_queries(6) as few:
        api.get(LIST)
    make(200)
    with django_assert_max_num_queries(6) as many:
        response = api.get(LIST)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert response.json()["count"] == 203


def test_schema_lists_the_steps_api(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/steps/{id}/copy/" in schema.content
    assert Visibility.PRIVATE in schema.content.decode()
