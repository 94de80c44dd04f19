"""Issue 14: redaction through every export format, the API, the Copy for Ticket preview and
its recorded choices, and the team's options."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from flows.models import TreeType
from sessions import exports, services
from sessions.models import FlowSession
from tests.conftest import api_as
from tests.factories import TreeFactory

NOTE_SECRET = "Welcome2024!"
COMMAND_SECRET = "Sc4nn3r#Pass"
CONNECTION_SECRET = "CrmApp#2024"
OUTCOME_SECRET = "ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZO"
NEXT_SECRET = "Fin@nce2024"
SECRETS = [NOTE_SECRET, COMMAND_SECRET, CONNECTION_SECRET, OUTCOME_SECRET, NEXT_SECRET]


@pytest.fixture
def leaky_flow(account, owner):
    return TreeFactory(
        name="Set up the scanner",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        intake_form=[
            {"name": "server", "label": "Server", "type": "text", "required": True},
            {"name": "connection", "label": "Connection string", "type": "text"},
        ],
    )


@pytest.fixture
def leaky_session(leaky_flow, engineer) -> FlowSession:
    """Secrets in a note, a custom step's command, an intake answer, outcome notes and next
    steps: everything the issue lists."""
    s = services.session_start(
        tree=leaky_flow,
        user=engineer,
        ticket_number="T-14",
        variables={
            "server": "FS01",
            "connection": f"Server=sql01;Database=crm;User Id=app;Password={CONNECTION_SECRET};",
        },
    )
    s = services.session_step_update(
        session=s,
        user=engineer,
        step_id="snapshot",
        done=True,
        note=f"Local admin reset, temp password is {NOTE_SECRET} (user changes it)",
    )
    s, _ = services.session_custom_step_add(
        session=s,
        user=engineer,
        inserted_after="snapshot",
        title="Create the scan account on [VAR:server]",
        commands=f"net user svc_scan {COMMAND_SECRET} /add\nnet localgroup Users svc_scan /add",
    )
    return services.session_complete(
        session=s,
        user=engineer,
        outcome="resolved",
        outcome_notes=f"Pushed the script with token {OUTCOME_SECRET}",
        next_steps=f"Map Z: with net use Z: \\\\fs01\\scans {NEXT_SECRET} /user:svc_scan",
    )


@pytest.mark.parametrize("fmt", list(exports.FORMATS))
def test_every_format_redacts_every_secret_and_keeps_the_rest(leaky_session, fmt):
    as_is = exports.export_session(leaky_session, fmt=fmt)
    redacted = exports.export_session(leaky_session, fmt=fmt, redact=True)

    for secret in SECRETS:
        assert secret in as_is.replace("&#x27;", "'").replace("\\", ""), (fmt, secret)
        assert secret not in redacted, (fmt, secret)
    for kind in ["password", "connection-string", "github-token"]:
        assert f"REDACTED:{kind}" in redacted.replace("\\", ""), (fmt, kind)
    assert "svc_scan" in redacted and "Set up the scanner" in redacted
    assert "\ue000" not in redacted and "\ue000" not in as_is


def test_the_stored_session_is_never_changed(leaky_session):
    before = FlowSession.objects.filter(pk=leaky_session.pk).values().get()
    exports.export_session(leaky_session, fmt="psa", redact=True)
    after = FlowSession.objects.filter(pk=leaky_session.pk).values().get()
    assert before == after
    assert NOTE_SECRET in after["step_state"]["snapshot"]["note"]


def test_findings_are_numbered_across_the_export_in_order(leaky_session):
    document = exports.export_document(leaky_session, fmt="psa")
    assert [f.text for f in document.found] == [
        CONNECTION_SECRET,  # the intake answers head the report
        NOTE_SECRET,
        COMMAND_SECRET,
        OUTCOME_SECRET,
        NEXT_SECRET,
    ]
    assert document.text(redact=True, keep=frozenset({1})).count(NOTE_SECRET) == 1
    # The custom step (2) is cut off, and so is its finding.
    cut = exports.export_document(leaky_session, fmt="psa", cut_off=1)
    assert COMMAND_SECRET not in [f.text for f in cut.found] and len(cut.found) == 4
    text = "".join(part for part, _ in document.segments())
    assert text == document.text()


def test_internal_addresses_only_when_the_team_asks(leaky_session, account):
    FlowSession.objects.filter(pk=leaky_session.pk).update(
        outcome_notes="Scanner at 192.168.20.15, mail to scans@acme.test"
    )
    session = FlowSession.objects.get(pk=leaky_session.pk)
    assert "192.168.20.15" in exports.export_session(session, fmt="psa", redact=True)

    account.redact_internal = True
    account.save()
    session = FlowSession.objects.select_related("account").get(pk=leaky_session.pk)
    text = exports.export_session(session, fmt="psa", redact=True)
    assert "192.168.20.15" not in text and "scans@acme.test" not in text
    assert "[REDACTED:ipv4]" in text and "[REDACTED:email]" in text


# --- API ---------------------------------------------------------------------------------


def export_url(session) -> str:
    return f"/api/sessions/{session.pk}/export/"


def test_api_redacts_with_redact_1_and_counts_in_a_header(
    leaky_session, engineer, django_assert_max_num_queries
):
    client = api_as(engineer)
    with django_assert_max_num_queries(8):
        response = client.get(export_url(leaky_session), {"format": "psa", "redact": "1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response["X-Redacted-Findings"] == "5"
    assert all(secret not in body for secret in SECRETS)
    assert "[REDACTED:password]" in body

    plain = client.get(export_url(leaky_session), {"format": "psa"})
    assert plain["X-Redacted-Findings"] == "0" and NOTE_SECRET in plain.content.decode()


def test_api_always_redacts_when_the_team_says_so(leaky_session, engineer, account):
    account.always_redact = True
    account.save()
    response = api_as(engineer).get(export_url(leaky_session), {"format": "markdown"})
    assert response["X-Redacted-Findings"] == "5"
    assert NOTE_SECRET not in response.content.decode()


def test_api_export_of_another_accounts_session_is_404(leaky_session, outsider):
    response = api_as(outsider).get(export_url(leaky_session), {"redact": "1"})
    assert response.status_code == 404


def test_api_rejects_a_bad_redact_value(leaky_session, engineer):
    response = api_as(engineer).get(export_url(leaky_session), {"redact": "maybe"})
    assert response.status_code == 400 and "redact" in response.json()


# --- the page: preview, choices, downloads ---------------------------------------------


def test_detail_page_shows_the_findings_preview_with_kinds_and_three_choices(
    client, leaky_session, engineer, django_assert_max_num_queries
):
    client.force_login(engineer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sessions:detail", args=[leaky_session.pk]))
    html = response.content.decode()
    assert "5 possible secrets found" in html
    assert 'Check before copying: <span id="finding-count">5 findings</span>' in html
    assert html.count('<mark class="rf-finding"') == 5
    assert 'data-kind="connection-string"' in html and 'data-kind="github-token"' in html
    assert "3 × Password" in html
    for choice in [
        'data-redaction-copy="all"',
        "data-redaction-review",
        'data-redaction-copy="none"',
    ]:
        assert choice in html


def test_always_redact_removes_copy_as_is(client, leaky_session, engineer, account):
    account.always_redact = True
    account.save()
    client.force_login(engineer)
    html = client.get(reverse("sessions:detail", args=[leaky_session.pk])).content.decode()
    assert 'data-redaction-copy="none"' not in html
    assert "Your team always redacts." in html
    assert 'data-redaction-copy="all"' in html


def test_a_session_without_findings_copies_directly(client, proc_session, engineer):
    session = services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    client.force_login(engineer)
    html = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert 'data-copy-target="#psa-text"' in html and "redaction-modal" not in html


def test_downloads_and_the_preview_are_redacted_by_default(client, leaky_session, engineer):
    client.force_login(engineer)
    url = reverse("sessions:export", args=[leaky_session.pk])
    for fmt in exports.FORMATS:
        response = client.get(url, {"format": fmt, "download": "1"})
        assert NOTE_SECRET not in response.content.decode(), fmt
        assert response["X-Redacted-Findings"] == "5"
    as_is = client.get(url, {"format": "text", "redact": "0"}).content.decode()
    assert NOTE_SECRET in as_is
    preview = client.get(url, {"format": "psa"}, headers={"HX-Request": "true"}).content.decode()
    assert NOTE_SECRET not in preview and "<html" not in preview


def test_team_always_redacting_ignores_redact_0_on_downloads(client, leaky_session, engineer):
    leaky_session.account.always_redact = True
    leaky_session.account.save()
    client.force_login(engineer)
    url = reverse("sessions:export", args=[leaky_session.pk])
    assert NOTE_SECRET not in client.get(url, {"format": "text", "redact": "0"}).content.decode()


def record(client, session, **data):
    return client.post(reverse("sessions:exported", args=[session.pk]), data)


def test_copy_as_is_is_recorded_and_marks_exported(client, leaky_session, engineer):
    client.force_login(engineer)
    response = record(client, leaky_session, choice="none", found=5, kept=5, kinds="password,jwt")
    assert response.status_code == 204
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_UNREDACTED)
    assert event.actor == engineer and event.target_id == str(leaky_session.pk)
    assert event.detail == {"choice": "none", "found": 5, "kept": 5, "kinds": ["jwt", "password"]}
    assert FlowSession.objects.get(pk=leaky_session.pk).exported


def test_redact_all_records_no_event(client, leaky_session, engineer):
    client.force_login(engineer)
    assert record(client, leaky_session, choice="all", found=5, kept=0).status_code == 204
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()
    assert FlowSession.objects.get(pk=leaky_session.pk).exported


def test_review_keeping_some_is_recorded(client, leaky_session, engineer):
    client.force_login(engineer)
    assert record(client, leaky_session, choice="review", found=5, kept=1).status_code == 204
    assert AuditEvent.objects.get(action=AuditAction.EXPORT_UNREDACTED).detail["kept"] == 1


def test_copy_as_is_is_refused_when_the_team_always_redacts(client, leaky_session, engineer):
    leaky_session.account.always_redact = True
    leaky_session.account.save()
    client.force_login(engineer)
    response = record(client, leaky_session, choice="none", found=5, kept=5)
    assert response.status_code == 400
    assert "always redacts" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"choice": "maybe", "found": 1, "kept": 0},
        {"choice": "none", "found": "x", "kept": 0},
        {"choice": "review", "found": 1, "kept": 2},
        {"choice": "all", "found": 2, "kept": 1},
    ],
)
def test_nonsense_choices_are_400_not_500(client, leaky_session, engineer, data):
    client.force_login(engineer)
    assert record(client, leaky_session, **data).status_code == 400


def test_recording_a_copy_of_another_accounts_session_is_404(client, leaky_session, outsider):
    client.force_login(outsider)
    assert record(client, leaky_session, choice="none", found=5, kept=5).status_code == 404
