"""Writes on maintenance batches: launch, Start on a target, and the controls that make a batch
behave like automation (issue 13): per-target marks, retries, pause / resume / cancel, canary
first, assignment. Every write locks the rows it changes and bumps the batch's
revision in the same transaction, so every watcher's status page shows it on its next poll.

State of one target (its current attempt):

    not started ──Start──▶ in progress ──Complete──▶ outcome
         │                     │                       │ (unresolved / escalated)
         └──mark──▶ skipped / blocked / unreachable ◀──┘ no: a completed run is not marked
                              │ (blocked / unreachable)
    outcome unresolved/escalated, blocked, unreachable ──Retry──▶ new attempt, not started
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Role, User
from flows.models import Tree
from sessions import tidy
from sessions.events import record_event
from sessions.models import (
    BUILTIN_TARGET_VARIABLE,
    Batch,
    EventKind,
    FlowSession,
    Outcome,
    SessionStatus,
    TargetList,
    TargetMark,
)
from sessions.services.runs import (
    SessionClosed,
    SessionError,
    bump_batch_revision,
    check_copy_choice,
    clean_text,
    ensure_runnable,
    intake_answers,
)
from sessions.services.targets import targets_clean

RETRYABLE_OUTCOMES = (Outcome.UNRESOLVED, Outcome.ESCALATED)
RETRYABLE_MARKS = (TargetMark.BLOCKED, TargetMark.UNREACHABLE)
CANARY_PASSED = (Outcome.RESOLVED,)
CANCELLED_REASON = "cancelled"


class TargetRefused(SessionClosed):
    """The target's state (or its batch's) forbids the action; the message says why (409)."""

    code = "target_state"


# --- launching and starting --------------------------------------------------------------


class SessionTaken(SessionClosed):
    """Someone else already started this target."""

    def __init__(self, session: FlowSession) -> None:
        who = session.user.display_name if session.user else "someone"
        super().__init__(f"{who} already started {session.target_label}.")
        self.session = session


@transaction.atomic
def batch_launch(
    *,
    tree: Tree,
    user: User,
    targets: Any = None,
    target_list: TargetList | None = None,
    ticket_number: str = "",
    variables: dict[str, Any] | None = None,
    canary: int = 0,
    assign: Any = None,
) -> Batch:
    """One batch and one not-started session per target, all or nothing. The first `canary`
    targets go first; `assign` is "round_robin" or {label: email} (see assignees)."""
    if not user.can_edit_content or user.account_id is None:
        raise PermissionDenied("Engineers launch maintenance batches.")
    if tree.tree_type != "maintenance":
        raise SessionError("Only maintenance flows run as a batch.")
    ensure_runnable(tree)
    if target_list is not None and target_list.account_id != user.account_id:
        raise PermissionDenied("That target list belongs to another team.")
    cleaned = targets_clean(
        targets if targets is not None else (target_list.targets if target_list else [])
    )
    if not cleaned:
        raise ValidationError({"targets": "Add at least one target (or pick a saved list)."})
    if target_list is not None and target_list.default_variables:
        # The list's defaults fill what the launcher left empty.
        given = {k: v for k, v in (variables or {}).items() if str(v or "").strip()}
        variables = {**target_list.default_variables, **given}
    ticket_number, variables = tidy.ticket_merged(tree.intake_form, ticket_number, variables)
    answers = intake_answers(tree, variables)
    try:
        canary = int(canary or 0)
    except (TypeError, ValueError):
        canary = -1
    if not 0 <= canary <= len(cleaned):
        raise ValidationError({"canary": f"A canary count is 0 to {len(cleaned)}."})
    owners = assignees(user=user, labels=[t["label"] for t in cleaned], assign=assign)
    batch = Batch.objects.create(
        tree=tree,
        account=user.account,
        created_by=user,
        target_list=target_list,
        ticket_number=clean_text(ticket_number, name="ticket_number", limit=100).strip(),
        variables=answers,
        canary=canary,
    )
    snapshot = tree.runnable_structure()
    version = tree.live_version()
    FlowSession.objects.bulk_create(
        FlowSession(
            tree=tree,
            tree_name=tree.name,
            tree_type=tree.tree_type,
            structure_snapshot=snapshot,
            intake_form_snapshot=tree.runnable_intake_form(),
            version=version,
            account=user.account,
            status=SessionStatus.PENDING,
            ticket_number=batch.ticket_number,
            variables={**answers, BUILTIN_TARGET_VARIABLE: target["label"]},
            batch=batch,
            target_label=target["label"],
            position=position,
            assigned_to=owners.get(target["label"]),
        )
        for position, target in enumerate(cleaned)
    )
    detail = {"flow": tree.name, "targets": len(cleaned), "ticket_number": batch.ticket_number}
    audit_record(AuditAction.BATCH_LAUNCHED, actor=user, target=batch, detail=detail)
    return batch


def batch_session_start(*, session: FlowSession, user: User) -> FlowSession:
    """Press Start on a target. Exactly one person wins: the state change is a single
    conditional UPDATE, so simultaneous presses cannot both start it. Pressing Start on a
    target you already started simply resumes it."""
    if session.batch_id is None:
        raise SessionError("Only batch targets are started this way.")
    if user.account_id != session.account_id and not user.is_staff:
        raise PermissionDenied("This batch belongs to another team.")
    with transaction.atomic():
        if session.status == SessionStatus.PENDING:
            guard_start(session)  # paused, marked, superseded or waiting for the canary: 409
        won = FlowSession.objects.filter(
            pk=session.pk, status=SessionStatus.PENDING, mark="", current=True
        ).update(status=SessionStatus.IN_PROGRESS, user=user, started_at=timezone.now())
        if won:
            Tree.objects.filter(pk=session.tree_id).update(usage_count=F("usage_count") + 1)
            bump_batch_revision(session.batch_id)
            record_event(session, user, EventKind.START)
    fresh = FlowSession.objects.select_related("user").get(pk=session.pk)
    if fresh.user_id != user.pk:
        raise SessionTaken(fresh)
    return fresh


# --- who may ---------------------------------------------------------------------------


def ensure_works_batch(user: User, account_id: Any) -> None:
    """Engineers and admins of the batch's account work its targets; viewers only read."""
    if user.is_staff:
        return
    if user.account_id != account_id or not user.can_edit_content:
        raise PermissionDenied("Only engineers of this team work on batch targets.")


def ensure_controls_batch(user: User, batch: Batch) -> None:
    """Pause, resume and cancel: the engineer who launched the batch, or an admin."""
    ensure_works_batch(user, batch.account_id)
    if batch.created_by_id != user.pk and not user.has_role(Role.ADMIN) and not user.is_staff:
        raise PermissionDenied("Only the engineer who launched this batch or an admin can.")


# --- the state of a target ---------------------------------------------------------------


def target_state(session: FlowSession) -> str:
    """not_started, in_progress, complete, or the mark (skipped, blocked, unreachable)."""
    if session.mark:
        return session.mark
    return {
        SessionStatus.PENDING: "not_started",
        SessionStatus.IN_PROGRESS: "in_progress",
    }.get(session.status, "complete")


def retry_refusal(session: FlowSession) -> str | None:
    if session.batch_id is None:
        return "Only batch targets are retried."
    if not session.current:
        return f"A later attempt of {session.target_label} exists."
    if session.mark in RETRYABLE_MARKS:
        return None
    if session.status == SessionStatus.COMPLETED and session.outcome in RETRYABLE_OUTCOMES:
        return None
    return (
        f"{session.target_label} is {target_state(session).replace('_', ' ')}: only unresolved, "
        "escalated, blocked or unreachable targets are retried."
    )


def canary_labels(batch: Batch) -> set[str]:
    if not batch.canary:
        return set()
    labels = FlowSession.objects.filter(batch=batch, current=True, position__lt=batch.canary)
    return set(labels.values_list("target_label", flat=True))


def canary_passed(batch: Batch) -> bool:
    """Every canary target complete and resolved (no canary: passed)."""
    if not batch.canary:
        return True
    canaries = FlowSession.objects.filter(batch=batch, current=True, position__lt=batch.canary)
    return not canaries.exclude(status=SessionStatus.COMPLETED, outcome__in=CANARY_PASSED).exists()


def start_refusal(batch: Batch, session: FlowSession) -> str | None:
    """Why Start is refused on this target now, or None (read under the batch's row lock)."""
    if batch.is_paused:
        who = batch.paused_by.display_name if batch.paused_by else "someone"
        reason = f": {batch.pause_reason}" if batch.pause_reason else ""
        return f"The batch is paused by {who}{reason}. Resume it to start targets."
    if session.mark:
        return f"{session.target_label} is {session.get_mark_display().lower()}."
    if not session.current:
        return f"A later attempt of {session.target_label} exists."
    if batch.canary and session.position >= batch.canary and not canary_passed(batch):
        return f"{session.target_label} is waiting for the canary targets to be resolved."
    return None


def guard_start(session: FlowSession) -> None:
    """Called by batch_session_start inside its transaction: locks the batch row, so a pause
    and a Start never cross, and refuses with 409 and the reason."""
    batch = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("paused_by")
        .get(pk=session.batch_id)
    )
    fresh = FlowSession.objects.only(
        "id", "mark", "current", "position", "target_label", "batch_id"
    ).get(pk=session.pk)
    refusal = start_refusal(batch, fresh)
    if refusal:
        raise TargetRefused(refusal)


def after_target_finished(session: FlowSession, user: User | None) -> None:
    """A target was completed or marked: a canary that did not end resolved pauses its batch."""
    if session.batch_id is None:
        return
    batch = Batch.objects.select_for_update().get(pk=session.batch_id)
    if session.position >= batch.canary or batch.is_paused:
        return
    failed = session.mark or session.outcome not in CANARY_PASSED
    if failed:
        how = session.get_mark_display() if session.mark else session.get_outcome_display()
        batch.paused_at = timezone.now()
        batch.paused_by = user
        batch.pause_reason = f"canary {session.target_label} failed ({how.lower()})"
        batch.save(update_fields=["paused_at", "paused_by", "pause_reason"])


# --- marks -------------------------------------------------------------------------------


@transaction.atomic
def target_mark(*, session: FlowSession, user: User, state: str, note: str) -> FlowSession:
    """Mark a not-started or running target skipped (with a reason) or blocked / unreachable
    (with a note). Its runner can no longer change it; blocked and unreachable can be retried."""
    if state not in TargetMark.values:
        raise ValidationError({"state": "Choose skipped, blocked or unreachable."})
    note = clean_text(note, name="note", limit=2000).strip()
    if not note:
        raise ValidationError({"note": "Say why (a reason or a note)."})
    if session.batch_id is None:
        raise SessionError("Only batch targets are marked.")
    # Batch row first, then the target: the order Start takes them, so the two never deadlock.
    Batch.objects.select_for_update().filter(pk=session.batch_id).first()
    fresh = FlowSession.objects.select_for_update().get(pk=session.pk)
    ensure_works_batch(user, fresh.account_id)
    if not fresh.current:
        raise TargetRefused(f"A later attempt of {fresh.target_label} exists.")
    if fresh.mark:
        raise TargetRefused(f"{fresh.target_label} is already {fresh.get_mark_display().lower()}.")
    if fresh.status == SessionStatus.COMPLETED:
        raise TargetRefused(f"{fresh.target_label} is completed and can no longer be marked.")
    fresh.mark = state
    fresh.mark_note = note
    fresh.save(update_fields=["mark", "mark_note", "updated_at"])
    record_event(fresh, user, EventKind.MARKED, payload={"state": state, "note": note[:500]})
    bump_batch_revision(fresh.batch_id)
    after_target_finished(fresh, user)
    return fresh


# --- retries -----------------------------------------------------------------------------


@transaction.atomic
def target_retry(*, session: FlowSession, user: User) -> FlowSession:
    """A new attempt (not started) of the same target, with the same snapshot and intake
    values; the earlier attempt stays as it is, readable from the card."""
    old = FlowSession.objects.select_for_update().get(pk=session.pk)
    if old.batch_id is not None:
        ensure_works_batch(user, old.account_id)
    refusal = retry_refusal(old)
    if refusal:
        raise TargetRefused(refusal)
    old.current = False
    old.save(update_fields=["current", "updated_at"])
    new = FlowSession.objects.create(
        tree_id=old.tree_id,
        tree_name=old.tree_name,
        tree_type=old.tree_type,
        structure_snapshot=old.structure_snapshot,
        intake_form_snapshot=old.intake_form_snapshot,
        account_id=old.account_id,
        status=SessionStatus.PENDING,
        ticket_number=old.ticket_number,
        client_name=old.client_name,
        variables=old.variables,
        batch_id=old.batch_id,
        target_label=old.target_label,
        position=old.position,
        attempt=old.attempt + 1,
        assigned_to_id=old.assigned_to_id,
    )
    record_event(old, user, EventKind.RETRIED, payload={"attempt": new.attempt, "new": str(new.pk)})
    bump_batch_revision(old.batch_id)
    return new


def failed_targets(batch: Batch) -> list[FlowSession]:
    sessions = (
        FlowSession.objects.filter(batch=batch, current=True)
        .select_related("assigned_to")
        .defer("structure_snapshot", "path")
        .order_by("position")
    )
    return [s for s in sessions if retry_refusal(s) is None]


@transaction.atomic
def batch_retry_failed(*, batch: Batch, user: User) -> list[FlowSession]:
    """Retry every unresolved, escalated, blocked and unreachable target in one action."""
    ensure_works_batch(user, batch.account_id)
    failed = failed_targets(batch)
    if not failed:
        raise TargetRefused("No failed targets to retry.")
    return [target_retry(session=session, user=user) for session in failed]


@transaction.atomic
def batch_relaunch_failed(*, batch: Batch, user: User) -> Batch:
    """A new batch of the failed targets, with the same flow, ticket and intake values."""
    ensure_works_batch(user, batch.account_id)
    failed = failed_targets(batch)
    if not failed:
        raise TargetRefused("No failed targets to relaunch.")
    new = batch_launch(
        tree=batch.tree,
        user=user,
        targets=[{"label": s.target_label} for s in failed],
        ticket_number=batch.ticket_number,
        variables=batch.variables,
        assign={s.target_label: s.assigned_to for s in failed if s.assigned_to_id},
    )
    new.relaunched_from = batch
    new.save(update_fields=["relaunched_from"])
    return new


# --- pause, resume, cancel -----------------------------------------------------------------


def locked_batch(batch: Batch) -> Batch:
    return (
        Batch.objects.select_for_update(of=("self",)).select_related("paused_by").get(pk=batch.pk)
    )


@transaction.atomic
def batch_pause(*, batch: Batch, user: User, reason: str = "") -> Batch:
    """No new targets start until it is resumed; running ones continue."""
    ensure_controls_batch(user, batch)
    fresh = locked_batch(batch)
    if fresh.is_paused:
        raise TargetRefused(f"The batch is already paused by {paused_by_name(fresh)}.")
    fresh.paused_at = timezone.now()
    fresh.paused_by = user
    fresh.pause_reason = clean_text(reason, name="reason", limit=300).strip()
    fresh.save(update_fields=["paused_at", "paused_by", "pause_reason"])
    bump_batch_revision(fresh.pk)
    return fresh


@transaction.atomic
def batch_resume(*, batch: Batch, user: User) -> Batch:
    ensure_controls_batch(user, batch)
    fresh = locked_batch(batch)
    if not fresh.is_paused:
        raise TargetRefused("The batch is not paused.")
    fresh.paused_at = None
    fresh.paused_by = None
    fresh.pause_reason = ""
    fresh.save(update_fields=["paused_at", "paused_by", "pause_reason"])
    bump_batch_revision(fresh.pk)
    return fresh


def paused_by_name(batch: Batch) -> str:
    return batch.paused_by.display_name if batch.paused_by else "someone"


@transaction.atomic
def batch_cancel(*, batch: Batch, user: User) -> int:
    """Every not-started target becomes skipped, reason "cancelled". Returns how many."""
    ensure_controls_batch(user, batch)
    locked_batch(batch)
    pending = list(
        FlowSession.objects.select_for_update()
        .filter(batch=batch, current=True, status=SessionStatus.PENDING, mark="")
        .only("id", "tree_id", "batch_id")
    )
    if not pending:
        raise TargetRefused("No targets are waiting to start: nothing to cancel.")
    FlowSession.objects.filter(pk__in=[s.pk for s in pending]).update(
        mark=TargetMark.SKIPPED, mark_note=CANCELLED_REASON, updated_at=timezone.now()
    )
    for session in pending:
        payload = {"state": TargetMark.SKIPPED, "note": CANCELLED_REASON}
        record_event(session, user, EventKind.MARKED, payload=payload)
    bump_batch_revision(batch.pk)
    return len(pending)


# --- assignment --------------------------------------------------------------------------

ROUND_ROBIN = "round_robin"


def account_engineers(account_id: Any) -> list[User]:
    """Who a target can be assigned to: active engineers and above of the account."""
    people = User.objects.filter(account_id=account_id, is_active=True).order_by("email")
    return [person for person in people if person.can_edit_content]


def assignees(*, user: User, labels: list[str], assign: Any) -> dict[str, User]:
    """Launch assignment: "round_robin" over the account's engineers, or {label: email or
    User}. Unknown labels and people outside the account are field errors."""
    if not assign:
        return {}
    engineers = account_engineers(user.account_id)
    if assign == ROUND_ROBIN:
        if not engineers:
            return {}
        return {label: engineers[i % len(engineers)] for i, label in enumerate(labels)}
    if not isinstance(assign, dict):
        raise ValidationError({"assign": 'Use "round_robin" or {target label: email}.'})
    by_email = {person.email.lower(): person for person in engineers}
    by_label = {label.lower(): label for label in labels}
    chosen: dict[str, User] = {}
    errors: list[str] = []
    for label, who in assign.items():
        if not who:
            continue
        person = who if isinstance(who, User) else by_email.get(str(who).strip().lower())
        if str(label).lower() not in by_label:
            errors.append(f"“{label}” is not a target of this batch.")
        elif person is None or person.account_id != user.account_id:
            errors.append(f"{who} is not an engineer of your team.")
        else:
            chosen[by_label[str(label).lower()]] = person
    if errors:
        raise ValidationError({"assign": errors})
    return chosen


@transaction.atomic
def target_assign(*, session: FlowSession, user: User, to: User | None) -> FlowSession:
    """Assign (or unassign) a target of a batch to an engineer of the account. Anyone working
    the batch takes a target (or lets go of their own); handing targets to others is the
    launcher's or an admin's, like pause and cancel."""
    fresh = FlowSession.objects.select_for_update().get(pk=session.pk)
    if fresh.batch_id is None:
        raise SessionError("Only batch targets are assigned.")
    ensure_works_batch(user, fresh.account_id)
    own = to.pk == user.pk if to is not None else fresh.assigned_to_id in (None, user.pk)
    if not own:
        ensure_controls_batch(user, fresh.batch)
    if to is not None and (
        to.account_id != fresh.account_id or not to.is_active or not to.can_edit_content
    ):
        raise ValidationError({"to": "Choose an engineer of this team."})
    fresh.assigned_to = to
    fresh.save(update_fields=["assigned_to", "updated_at"])
    bump_batch_revision(fresh.batch_id)
    return fresh


def target_assign_email(*, session: FlowSession, user: User, to: str | None) -> FlowSession:
    """The API's and the card's form: the engineer by email (None or "" unassigns)."""
    person = None
    if to:
        person = User.objects.filter(email__iexact=to.strip()).first()
        if person is None:
            raise ValidationError({"to": "Choose an engineer of this team."})
    return target_assign(session=session, user=user, to=person)


def batch_copied_for_ticket(
    *,
    batch: Batch,
    user: User,
    choice: str,
    found: int,
    kept: int,
    kinds: list[str] | None = None,
    request: Any = None,
) -> None:
    """Copy for Ticket of the batch report, after the same review as a session's: redact all,
    review one by one, or copy as is (refused when the team always redacts). A batch has no
    timeline of its own, so only a copy that kept findings is recorded: on the audit trail."""
    check_copy_choice(batch.account, choice=choice, found=found, kept=kept)
    if kept:
        audit_record(
            AuditAction.EXPORT_UNREDACTED,
            actor=user,
            account=batch.account,
            target=batch,
            detail={
                "report": "batch",
                "choice": choice,
                "found": found,
                "kept": kept,
                "kinds": sorted(set(kinds or []))[:20],
            },
            request=request,
        )


def last_batch_values(tree: Any, user: User) -> dict[str, Any]:
    """The intake values of this account's last batch of the flow: the launch form's start."""
    last = (
        Batch.objects.filter(tree=tree, account_id=user.account_id)
        .order_by("-created_at")
        .values("variables", "ticket_number")
        .first()
    )
    return dict(last["variables"] or {}) if last else {}


def labels_of(sessions: Iterable[FlowSession]) -> list[str]:
    return [s.target_label for s in sessions]
