"""Issue 13 × 14: the batch page's Copy for Ticket runs through the same safe-copy review as a
session's (findings highlighted; redact all / review one by one / copy as is; the team's
"always redact" honoured), and a copy that kept findings is on the audit trail. Both databases."""

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from flows.models import TreeType
from sessions.models import FlowSession
from sessions.services import batches
from tests.factories import TreeFactory

SECRET = "hunter2x!"


@pytest.fixture
def mnt_flow(account, owner):
    return TreeFactory(
        name="Patch RDS hosts",
        account=account,
        author=owner,
        tree_type=TreeType.MAINTENANCE,
        intake_form=[{"name": "change", "label": "Change", "type": "text", "required": True}],
    )


@pytest.fixture
def leaky_batch(mnt_flow, engineer):
    batch = batches.batch_launch(
        tree=mnt_flow, user=engineer, targets=["A", "B"], variables={"change": "CHG1"}
    )
    session = FlowSession.objects.get(batch=batch, target_label="A")
    batches.target_mark(
        session=session, user=engineer, state="blocked", note=f"console password={SECRET}"
    )
    return batch


def status_url(batch) -> str:
    return reverse("batches:detail", args=[batch.tree_id, batch.pk])


def copied_url(batch) -> str:
    return reverse("batches:copied", args=[batch.tree_id, batch.pk])


def test_copy_for_ticket_opens_the_review_with_the_finding(client, leaky_batch, engineer):
    client.force_login(engineer)
    body = client.get(status_url(leaky_batch)).content.decode()
    assert 'id="redaction-modal"' in body
    assert f'data-record-url="{copied_url(leaky_batch)}"' in body
    assert 'data-bs-target="#redaction-modal"' in body.split('id="copy-batch-report"')[1][:200]
    preview = body.split('id="redaction-preview"')[1].split("</pre>")[0]
    assert preview.count('<mark class="rf-finding"') == 1
    assert 'data-kind="password"' in preview and SECRET.replace("!", "") in preview
    assert "ResolutionFlow batch: Patch RDS hosts" in preview and "B | Not started" in preview
    assert "1 possible secret found" in body
    assert "the batch itself is not changed" in body
    for button in ("Redact all and copy", "Review one by one", "Copy as is"):
        assert button in body
    # Outside the review the secret is never in the page's ready-to-copy text.
    hidden = body.split('id="batch-report-text"')[1].split("</textarea>")[0]
    assert SECRET not in hidden and "[REDACTED:password]" in hidden


def test_always_redact_takes_copy_as_is_away(client, leaky_batch, engineer, account):
    account.always_redact = True
    account.save(update_fields=["always_redact"])
    client.force_login(engineer)
    body = client.get(status_url(leaky_batch)).content.decode()
    assert 'id="redaction-modal"' in body and "Your team always redacts." in body
    assert 'data-redaction-copy="none"' not in body
    refused = client.post(copied_url(leaky_batch), {"choice": "none", "found": 1, "kept": 1})
    assert refused.status_code == 400 and "always redacts" in refused.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()


def test_a_copy_that_kept_findings_is_audited(client, leaky_batch, engineer, outsider):
    client.force_login(engineer)
    clean = client.post(copied_url(leaky_batch), {"choice": "all", "found": 1, "kept": 0})
    assert clean.status_code == 204
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()
    kept = client.post(
        copied_url(leaky_batch),
        {"choice": "review", "found": 1, "kept": 1, "kinds": "password,bogus"},
    )
    assert kept.status_code == 204
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_UNREDACTED)
    assert event.target_type == "batch" and event.target_id == str(leaky_batch.pk)
    assert event.detail == {
        "report": "batch",
        "choice": "review",
        "found": 1,
        "kept": 1,
        "kinds": ["password"],
    }
    for bad in ({"choice": "all", "found": 1, "kept": 1}, {"choice": "x"}, {"found": "y"}):
        assert client.post(copied_url(leaky_batch), bad).status_code == 400
    assert client.get(copied_url(leaky_batch)).status_code == 405
    client.force_login(outsider)
    answer = client.post(copied_url(leaky_batch), {"choice": "none", "found": 1, "kept": 1})
    assert answer.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).count() == 1


def test_a_clean_report_copies_straight_away(client, mnt_flow, engineer):
    batch = batches.batch_launch(
        tree=mnt_flow, user=engineer, targets=["A"], variables={"change": "CHG1"}
    )
    client.force_login(engineer)
    body = client.get(status_url(batch)).content.decode()
    assert "redaction-modal" not in body
    assert 'data-copy-target="#batch-report-text"' in body
