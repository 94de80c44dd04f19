"""Sessions and the step library: insert from the library, feedback into helpful counts, save a
custom step to the library."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sessions import runtime, services
from steplibrary.models import LibraryStep
from tests.conftest import api_as
from tests.factories import LibraryStepFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def library_step(engineer):
    return LibraryStepFactory(
        title="Check free disk space",
        created_by=engineer,
        visibility="team",
        content={
            "instructions": "Make sure C: has 10 GB free.",
            "help_text": "At least 10 GB free.",
            "commands": [
                {"label": "Free space", "command": "Get-PSDrive C", "command_type": "powershell"}
            ],
            "group_label": "",
        },
    )


@pytest.fixture
def rival_library_step(outsider):
    return LibraryStepFactory(title="Rival trick", created_by=outsider, visibility="team")


def uses(step: LibraryStep) -> int:
    step.refresh_from_db()
    return step.usage_count


# --- services -------------------------------------------------------------------------------


def test_inserting_from_the_library_adds_a_custom_step_and_counts_a_use(
    proc_session, engineer, library_step
):
    session, custom = services.session_custom_step_from_library(
        session=proc_session, user=engineer, inserted_after="snapshot", library_step=library_step.pk
    )
    assert custom["source"] == "library" and custom["library_step"] == str(library_step.pk)
    assert custom["title"] == "Check free disk space"
    assert (
        custom["instructions"] == "Make sure C: has 10 GB free.\n\nExpected: At least 10 GB free."
    )
    assert custom["commands"] == [
        {"language": "powershell", "label": "Free space", "code": "Get-PSDrive C"}
    ]
    assert [r.id for r in runtime.checklist(session)][:3] == ["prep", "snapshot", custom["id"]]
    assert uses(library_step) == 1


@pytest.mark.parametrize("which", ["rival", "private", "garbage"])
def test_only_entries_the_user_may_see_can_be_inserted(
    proc_session, engineer, owner, rival_library_step, which
):
    step_id = {
        "rival": lambda: rival_library_step.pk,
        "private": lambda: LibraryStepFactory(created_by=owner, visibility="private").pk,
        "garbage": lambda: "not-a-uuid",
    }[which]()
    with pytest.raises(ValidationError) as refused:
        services.session_custom_step_from_library(
            session=proc_session, user=engineer, inserted_after="snapshot", library_step=step_id
        )
    assert "library_step" in refused.value.message_dict
    proc_session.refresh_from_db()
    assert proc_session.custom_steps == []
    assert uses(rival_library_step) == 0


def test_a_refused_insert_counts_no_use(proc_session, engineer, library_step):
    with pytest.raises(services.SessionError):
        services.session_custom_step_from_library(
            session=proc_session,
            user=engineer,
            inserted_after="ghost",
            library_step=library_step.pk,
        )
    assert uses(library_step) == 0


def test_api_custom_steps_from_the_library_are_checked_and_counted(
    proc_session, engineer, library_step, rival_library_step
):
    api = api_as(engineer)
    url = f"/api/sessions/{proc_session.pk}/custom-steps/"
    body = {"inserted_after": "patch", "title": "Disk", "source": "library"}
    ok = api.post(url, {**body, "library_step": str(library_step.pk)}, format="json")
    assert ok.status_code == 201, ok.json()
    assert uses(library_step) == 1
    bad = api.post(url, {**body, "library_step": str(rival_library_step.pk)}, format="json")
    assert bad.status_code == 400 and "library_step" in bad.json()
    assert uses(rival_library_step) == 0


def synced_entry(tree, node_id: str) -> LibraryStep:
    return LibraryStep.objects.get(source_tree=tree, source_node_id=node_id)


def helpful(entry: LibraryStep) -> tuple[int, int]:
    entry.refresh_from_db()
    return entry.helpful_yes, entry.helpful_no


def test_feedback_on_a_synced_step_moves_the_entrys_helpful_counts(
    proc_flow, proc_session, engineer, account
):
    entry = synced_entry(proc_flow, "snapshot")
    vote = services.session_feedback_set
    vote(session=proc_session, user=engineer, node_id="snapshot", helpful=True)
    assert helpful(entry) == (1, 0)
    vote(session=proc_session, user=engineer, node_id="snapshot", helpful=False)  # flip
    assert helpful(entry) == (0, 1)
    vote(session=proc_session, user=engineer, node_id="snapshot", helpful=False)  # toggle off
    assert helpful(entry) == (0, 0)

    colleague = UserFactory(account=account)
    other = services.session_start(tree=proc_flow, user=colleague, variables={"server": "x"})
    vote(session=other, user=colleague, node_id="snapshot", helpful=True)
    vote(session=proc_session, user=engineer, node_id="snapshot", helpful=True)
    vote(session=proc_session, user=engineer, node_id="snapshot", helpful=None)  # clear
    assert helpful(entry) == (1, 0)


def test_feedback_on_a_troubleshooting_node(ts_flow, ts_session, engineer):
    services.session_feedback_set(session=ts_session, user=engineer, node_id="root", helpful=True)
    assert not LibraryStep.objects.filter(source_node_id="root").exists()  # decisions: no entry
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    services.session_feedback_set(session=ts_session, user=engineer, node_id="fixed", helpful=True)
    assert helpful(synced_entry(ts_flow, "fixed")) == (1, 0)


# --- pages ----------------------------------------------------------------------------------


def test_runner_offers_from_library_and_save_to_library(
    client, proc_session, engineer, library_step
):
    services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="patch", title="Reboot"
    )
    client.force_login(engineer)
    body = client.get(reverse("sessions:run", args=[proc_session.pk])).content.decode()
    assert "From library" in body and 'id="library-modal"' in body
    assert reverse("sessions:library-insert", args=[proc_session.pk]) + "?after=patch" in body
    assert "Save to library" in body


def test_library_modal_embeds_the_browser_posting_to_the_session(
    client, proc_session, engineer, library_step
):
    client.force_login(engineer)
    url = reverse("sessions:library-insert", args=[proc_session.pk])
    body = client.get(url, {"after": "snapshot"}, **HTMX).content.decode()
    assert "<html" not in body and "data-library-choose-context" in body
    assert 'name="inserted_after" value="snapshot"' in body
    choose = reverse("sessions:custom-add-library", args=[proc_session.pk])
    assert f"choose_url={choose}" in body
    browser = client.get(
        reverse("steplibrary:browse"), {"choose_url": choose, "choose_label": "Insert"}, **HTMX
    ).content.decode()
    assert f'hx-post="{choose}"' in browser and library_step.title in browser


def test_library_modal_tenancy(client, proc_session, outsider, account):
    url = reverse("sessions:library-insert", args=[proc_session.pk])
    client.force_login(outsider)
    assert client.get(url, {"after": "snapshot"}, **HTMX).status_code == 404
    client.force_login(UserFactory(account=account, role="owner"))  # sees it, does not run it
    assert client.get(url, {"after": "snapshot"}, **HTMX).status_code == 403


def test_choosing_inserts_closes_the_modal_and_redraws_the_checklist(
    client, proc_session, engineer, library_step
):
    client.force_login(engineer)
    url = reverse("sessions:custom-add-library", args=[proc_session.pk])
    response = client.post(
        url, {"inserted_after": "snapshot", "library_step": library_step.pk}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="checklist"' in body
    assert "Check free disk space" in body and "from library" in body and "Custom" in body
    assert "libraryStepChosen" in json.loads(response["HX-Trigger"])
    assert uses(library_step) == 1


def test_choosing_an_entry_of_another_team_is_refused_with_a_toast(
    client, proc_session, engineer, rival_library_step
):
    client.force_login(engineer)
    url = reverse("sessions:custom-add-library", args=[proc_session.pk])
    response = client.post(
        url, {"inserted_after": "snapshot", "library_step": rival_library_step.pk}, **HTMX
    )
    assert "rf:toast" in json.loads(response["HX-Trigger"])
    proc_session.refresh_from_db()
    assert proc_session.custom_steps == []


def test_choosing_from_the_plain_page_returns_to_the_run(
    client, proc_session, engineer, library_step
):
    client.force_login(engineer)
    url = reverse("sessions:custom-add-library", args=[proc_session.pk])
    data = {"inserted_after": "snapshot", "library_step": library_step.pk, "return": "run"}
    response = client.post(url, data, **HTMX)
    assert response["HX-Redirect"] == reverse("sessions:run", args=[proc_session.pk])


def test_save_a_custom_step_to_the_library(client, proc_session, engineer, viewer, outsider):
    _, custom = services.session_custom_step_add(
        session=proc_session,
        user=engineer,
        inserted_after="patch",
        title="Clear the print queue",
        instructions="Stop the spooler, clear the queue.",
        commands="net stop spooler",
    )
    url = reverse("sessions:custom-save-to-library", args=[proc_session.pk, custom["id"]])
    client.force_login(engineer)
    body = client.get(url, **HTMX).content.decode()
    assert 'value="Clear the print queue"' in body and "net stop spooler" in body
    assert f'hx-post="{reverse("steplibrary:create")}"' in body
    missing = reverse("sessions:custom-save-to-library", args=[proc_session.pk, "custom-x"])
    assert client.get(missing, **HTMX).status_code == 404
    client.force_login(outsider)
    assert client.get(url, **HTMX).status_code == 404


def test_finished_sessions_list_custom_steps_with_save_to_library(client, proc_session, engineer):
    _, custom = services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="patch", title="Reboot twice"
    )
    services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    client.force_login(engineer)
    body = client.get(reverse("sessions:detail", args=[proc_session.pk])).content.decode()
    assert 'id="custom-steps"' in body and "Reboot twice" in body
    assert reverse("sessions:custom-save-to-library", args=[proc_session.pk, custom["id"]]) in body
