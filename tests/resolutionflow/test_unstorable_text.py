"""Text the database cannot store (NUL, lone surrogates) is refused before any view runs:
400 JSON for the API, 422 and a toast for htmx, a 400 page naming the field for pages.
Every test re-reads the database to show nothing was written."""

import json
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from flows.models import Tree, TreeType
from sessions.models import FlowSession
from steplibrary.models import LibraryStep
from tests.conftest import api_as
from tests.factories import procedural_structure, troubleshooting_structure

NUL = "\x00"
SURROGATE = "\ud800"
# Anything parsed from JSON (API bodies, uploaded files, the JSON page's textareas) can hold
# either. A form field can hold NUL; a lone surrogate only by declaring a non-UTF-8 charset,
# which Django itself refuses (see the last section).
BAD = pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
HTMX = {"HTTP_HX_REQUEST": "true"}


def post_with_surrogates(client, url: str, data: dict, **extra):
    """A browser cannot send a lone surrogate in a form, but a script can try: it declares a
    charset that decodes to one (`\\ud800` under `unicode_escape`)."""
    body = "&".join(
        f"{quote(key)}={quote(str(value).encode('unicode_escape'))}" for key, value in data.items()
    )
    content_type = "application/x-www-form-urlencoded; charset=unicode_escape"
    return client.post(url, body, content_type=content_type, **extra)


def post_json(api, url: str, payload: object):
    """JSON as scripts send it: escapes (`\\u0000`, `\\ud800`), which only parsing reveals."""
    return api.post(url, json.dumps(payload), content_type="application/json")


def upload(document: dict) -> SimpleUploadedFile:
    return SimpleUploadedFile("flow.json", json.dumps(document).encode(), "application/json")


def export_document(name: str = "Imported", **change) -> dict:
    return {
        "format": "resolutionflow.flow",
        "version": 1,
        "name": name,
        "tree_type": "procedural",
        "tree_structure": procedural_structure(),
        **change,
    }


def assert_page_names_the_field(response, field: str) -> None:
    body = response.content.decode()
    assert response.status_code == 400
    assert "cannot be stored" in body and f"<strong>{field}</strong>" in body
    assert 'aria-label="Main navigation"' in body  # the site's layout, not a bare error


def assert_api_names_the_field(response, field: str) -> None:
    assert response.status_code == 400
    body = response.json()
    assert "cannot be stored" in body["detail"]
    assert field in [error["field"] for error in body["errors"]], body


def flow_form(**change) -> dict:
    return {"name": "VPN down", "tree_type": "troubleshooting", **change}


# --- flows: name, structure, intake form ------------------------------------------------


def test_flow_name_on_the_create_page_is_refused(client, engineer):
    client.force_login(engineer)
    response = client.post(reverse("flows:create"), flow_form(name="VPN\x00down"))
    assert_page_names_the_field(response, "name")
    assert not Tree.objects.exists()


@BAD
def test_flow_name_through_the_api_is_refused(engineer, bad):
    payload = {"name": f"VPN{bad}down", "tree_type": "troubleshooting"}
    response = post_json(api_as(engineer), "/api/flows/", payload)
    assert_api_names_the_field(response, "name")
    assert not Tree.objects.exists()


@BAD
def test_structure_through_the_api_is_refused_with_the_path_of_the_text(engineer, bad):
    structure = troubleshooting_structure()
    structure["question"] = f"Is it up?{bad}"
    payload = {"name": "VPN", "tree_type": "troubleshooting", "tree_structure": structure}
    response = post_json(api_as(engineer), "/api/flows/", payload)
    assert_api_names_the_field(response, "tree_structure.question")
    assert not Tree.objects.exists()


@BAD
def test_structure_on_the_json_page_is_refused_and_the_flow_kept(client, owner, own_draft, bad):
    structure = troubleshooting_structure()
    structure["children"][0]["title"] = f"Restart{bad}"
    before = Tree.objects.get(pk=own_draft.pk).tree_structure
    client.force_login(owner)
    url = reverse("flows:edit_json", args=[own_draft.pk])
    # The textarea holds JSON text: the bad character arrives as an escape inside it.
    form = flow_form(name=own_draft.name, tree_structure=json.dumps(structure))
    response = client.post(url, form)
    assert_page_names_the_field(response, "tree_structure.children[0].title")
    assert Tree.objects.get(pk=own_draft.pk).tree_structure == before


@BAD
def test_intake_form_through_the_api_and_the_json_page_is_refused(client, owner, own_draft, bad):
    intake = [{"name": "upn", "label": f"UPN{bad}", "type": "text"}]
    response = api_as(owner).patch(
        f"/api/flows/{own_draft.pk}/",
        json.dumps({"intake_form": intake}),
        content_type="application/json",
    )
    assert_api_names_the_field(response, "intake_form[0].label")
    client.force_login(owner)
    form = flow_form(name=own_draft.name, intake_form=json.dumps(intake))
    page = client.post(reverse("flows:edit_json", args=[own_draft.pk]), form)
    assert_page_names_the_field(page, "intake_form[0].label")
    assert Tree.objects.get(pk=own_draft.pk).intake_form == own_draft.intake_form


def test_flow_name_sent_by_the_editor_over_htmx_is_a_422_toast(client, owner, own_draft):
    client.force_login(owner)
    url = reverse("flows:editor_details", args=[own_draft.pk])
    response = client.post(url, {"name": "New\x00", "description": ""}, **HTMX)
    assert response.status_code == 422
    toast = json.loads(response["HX-Trigger"])["rf:toast"]
    assert toast["level"] == "danger" and "“name”" in toast["message"]
    assert "Nothing was saved" in toast["message"]
    assert response["HX-Reswap"] == "none"  # the editor stays as it was
    assert Tree.objects.get(pk=own_draft.pk).name == own_draft.name


# --- import: API (JSON body and file) and page ------------------------------------------


@BAD
def test_import_through_the_api_is_refused_as_body_and_as_file(engineer, bad):
    api = api_as(engineer)
    document = export_document(name=f"Imported{bad}")
    assert_api_names_the_field(post_json(api, "/api/flows/import/", document), "name")
    response = api.post("/api/flows/import/", {"file": upload(document)}, format="multipart")
    assert_api_names_the_field(response, "file.name")
    assert not Tree.objects.exists()


@BAD
def test_import_page_refuses_a_file_with_unstorable_text(client, engineer, bad):
    client.force_login(engineer)
    structure = procedural_structure()
    structure["steps"][0]["title"] = f"Step{bad}"
    document = export_document(tree_structure=structure)
    response = client.post(reverse("flows:import"), {"file": upload(document)})
    assert_page_names_the_field(response, "file.tree_structure.steps[0].title")
    assert not Tree.objects.exists()


def test_import_page_refuses_a_raw_nul_byte_in_the_file(client, engineer):
    client.force_login(engineer)
    raw = SimpleUploadedFile("flow.json", b'{"name": "a\x00b"}', "application/json")
    response = client.post(reverse("flows:import"), {"file": raw})
    assert_page_names_the_field(response, "file")
    assert "NUL" in response.content.decode()
    assert not Tree.objects.exists()


# --- sessions: notes sent by htmx -------------------------------------------------------


def test_checklist_note_over_htmx_is_a_422_toast_and_not_saved(client, engineer, proc_session):
    client.force_login(engineer)
    url = reverse("sessions:step", args=[proc_session.pk, "patch"])
    response = client.post(url, {"note": "KB5031\x00"}, **HTMX)
    assert response.status_code == 422
    assert "rf:toast" in json.loads(response["HX-Trigger"])
    assert response["HX-Reswap"] == "none"
    saved = FlowSession.objects.get(pk=proc_session.pk).step_state
    assert saved.get("patch", {}).get("note", "") == ""


def test_troubleshooting_note_over_htmx_is_refused(client, engineer, ts_session):
    client.force_login(engineer)
    url = reverse("sessions:answer", args=[ts_session.pk])
    response = client.post(url, {"node_id": "root", "choice": "Yes", "note": "n\x00"}, **HTMX)
    assert response.status_code == 422
    assert FlowSession.objects.get(pk=ts_session.pk).path == []


# --- library steps: page, htmx and API --------------------------------------------------


def library_form(**change) -> dict:
    return {
        "title": "Reset the Outlook profile",
        "step_type": "action",
        "instructions": "Create a new mail profile.",
        "visibility": "private",
        **change,
    }


def test_library_step_on_the_page_and_over_htmx_is_refused(client, engineer):
    client.force_login(engineer)
    url = reverse("steplibrary:create")
    page = client.post(url, library_form(instructions="Open\x00"))
    assert_page_names_the_field(page, "instructions")
    htmx = client.post(url, library_form(title="Reset\x00"), **HTMX)
    assert htmx.status_code == 422
    assert "“title”" in json.loads(htmx["HX-Trigger"])["rf:toast"]["message"]
    assert not LibraryStep.objects.exists()


@BAD
def test_library_step_through_the_api_is_refused(engineer, bad):
    payload = {
        "title": "Clear the Teams cache",
        "step_type": "action",
        "visibility": "team",
        "content": {"instructions": "Quit Teams.", "commands": [{"code": f"rm{bad}"}]},
    }
    response = post_json(api_as(engineer), "/api/steps/", payload)
    assert_api_names_the_field(response, "content.commands[0].code")
    assert not LibraryStep.objects.exists()


# --- query strings, keys, and what must still pass --------------------------------------


def test_query_string_with_nul_is_refused_on_pages_and_api(client, engineer):
    client.force_login(engineer)
    assert_page_names_the_field(client.get("/flows/?q=vpn%00"), "q")
    assert_api_names_the_field(api_as(engineer).get("/api/flows/?search=%00"), "search")


def test_a_bad_json_key_is_named_without_breaking_the_answer(engineer):
    payload = {"name": "VPN", "tree_type": "troubleshooting", f"x{SURROGATE}": 1}
    response = post_json(api_as(engineer), "/api/flows/", payload)
    assert_api_names_the_field(response, "x\\ud800 (a key)")
    assert not Tree.objects.exists()


def test_escaped_accents_and_emoji_still_create_a_flow(engineer):
    payload = {"name": "Café 😀 VPN", "tree_type": "procedural"}
    response = post_json(api_as(engineer), "/api/flows/", payload)  # sent as \u00e9, \ud83d\ude00
    assert response.status_code == 201, response.content
    assert Tree.objects.get().name == "Café 😀 VPN"


def test_api_import_of_a_clean_file_still_works(engineer):
    response = api_as(engineer).post(
        "/api/flows/import/", {"file": upload(export_document())}, format="multipart"
    )
    assert response.status_code == 201
    assert Tree.objects.get().tree_type == TreeType.PROCEDURAL


# --- forms that declare a charset yielding lone surrogates ------------------------------


def test_forms_that_would_carry_a_lone_surrogate_are_refused(client, engineer, proc_session):
    """Django refuses a form body that is not UTF-8 (400) before anything reads it."""
    client.force_login(engineer)
    flows, steps = Tree.objects.count(), LibraryStep.objects.count()
    page = post_with_surrogates(client, reverse("flows:create"), flow_form(name="VPN\ud800"))
    assert page.status_code == 400 and "nothing was done" in page.content.decode()
    step = reverse("sessions:step", args=[proc_session.pk, "patch"])
    note = post_with_surrogates(client, step, {"note": "KB\ud800"}, **HTMX)
    assert note.status_code == 400 and "<html" not in note.content.decode()
    library = post_with_surrogates(client, reverse("steplibrary:create"), library_form())
    assert library.status_code == 400
    assert Tree.objects.count() == flows and LibraryStep.objects.count() == steps
    assert FlowSession.objects.get(pk=proc_session.pk).step_state == proc_session.step_state
