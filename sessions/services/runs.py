"""Writes on sessions. Every change locks the session row, re-reads it and writes it back in one
transaction, so two tabs ticking different steps at once never lose each other's update."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, User
from flows import nodes, structure
from flows.models import Tree
from resolutionflow.errors import ServiceError
from sessions import runtime, tidy
from sessions.events import record_event, record_events
from sessions.models import (
    Batch,
    EventKind,
    FlowSession,
    Outcome,
    SessionEvent,
    SessionStatus,
    StepFeedback,
)
from steplibrary.models import LibraryStep
from steplibrary.services import library_step_record_use, library_step_vote

MAX_NOTE = 10_000
MAX_CUSTOM_STEPS = 200


class SessionError(ServiceError, ValueError):
    """A request that cannot apply to this session; the message says why (API 400)."""

    code = "session_refused"


class SessionClosed(SessionError):
    """The session is completed (or not started): nothing can change it (API 409)."""

    status_code = 409
    code = "session_closed"


def now_iso() -> str:
    return timezone.now().isoformat(timespec="seconds")


def clean_text(value: Any, *, name: str, limit: int = MAX_NOTE) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        raise ValidationError({name: f"At most {limit:,} characters."})
    return text


# --- starting ---------------------------------------------------------------------------


def intake_answers(tree: Tree, answers: dict[str, Any] | None) -> dict[str, str]:
    """Check the intake answers against the flow's form; errors are keyed by field name."""
    answers = answers or {}
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in tree.intake_form or []:
        name = spec.get("name")
        value = str(answers.get(name, "") or "").strip()
        if spec.get("required") and not value:
            errors[name] = f"{spec.get('label') or name} is required."
        elif value and spec.get("type") == "number":
            try:
                float(value)
            except ValueError:
                errors[name] = "Enter a number."
        elif value and spec.get("type") == "select" and value not in _choices(spec):
            errors[name] = "Choose one of the options."
        elif len(value) > 2000:
            errors[name] = "At most 2,000 characters."
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _choices(spec: dict[str, Any]) -> list[str]:
    # Answers are stripped, so an option saved as " Yes " must match "Yes".
    return [o.strip() for o in spec.get("options") or [] if isinstance(o, str)]


def ensure_runnable(tree: Tree) -> None:
    if not tree.is_published:
        raise SessionError("This flow is a draft: publish it before running it.")
    if not tree.is_active:
        raise SessionError("This flow is retired and can no longer be run.")


@transaction.atomic
def session_start(
    *,
    tree: Tree,
    user: User,
    ticket_number: str = "",
    client_name: str = "",
    variables: dict[str, Any] | None = None,
) -> FlowSession:
    """Start a run: snapshot the flow as it is now and count the use."""
    ensure_runnable(tree)
    ticket_number, variables = tidy.ticket_merged(tree.intake_form, ticket_number, variables)
    answers = intake_answers(tree, variables)
    session = FlowSession.objects.create(
        tree=tree,
        tree_name=tree.name,
        tree_type=tree.tree_type,
        structure_snapshot=tree.runnable_structure(),
        intake_form_snapshot=tree.runnable_intake_form(),
        version=tree.live_version(),
        user=user,
        account=user.account,
        status=SessionStatus.IN_PROGRESS,
        ticket_number=clean_text(ticket_number, name="ticket_number", limit=100).strip(),
        client_name=clean_text(client_name, name="client_name", limit=200).strip(),
        variables=answers,
        started_at=timezone.now(),
    )
    session.current_node_id = root_node_id(session)
    if session.current_node_id:
        session.save(update_fields=["current_node_id"])
    Tree.objects.filter(pk=tree.pk).update(usage_count=F("usage_count") + 1)
    record_event(session, user, EventKind.START, node_id=session.current_node_id)
    return session


def root_node_id(session: FlowSession) -> str:
    """Where a troubleshooting run begins; a checklist has no current node."""
    if not session.is_troubleshooting:
        return ""
    return str((runtime.current_node(session) or {}).get("id") or "")


# --- changing a running session ---------------------------------------------------------


def locked_open_session(session: FlowSession, user: User) -> FlowSession:
    """The session's current row, locked; refuses closed sessions and other people."""
    fresh = FlowSession.objects.select_for_update().get(pk=session.pk)
    if not fresh.can_run(user):
        raise PermissionDenied("Only the engineer running this session can change it.")
    if fresh.status == SessionStatus.COMPLETED:
        raise SessionClosed("This session is completed and can no longer be changed.")
    if fresh.status == SessionStatus.PENDING:
        raise SessionClosed("This session has not been started yet.")
    if fresh.mark:
        raise SessionClosed(
            f"This target is marked {fresh.get_mark_display().lower()} and can no longer change."
        )
    return fresh


def mutate(session: FlowSession, user: User, change: Callable[[FlowSession], None], *fields: str):
    with transaction.atomic():
        fresh = locked_open_session(session, user)
        before = [getattr(fresh, name) for name in fields]
        change(fresh)
        fresh.save(update_fields=[*fields, "updated_at"])
        if before != [getattr(fresh, name) for name in fields]:
            bump_batch_revision(fresh.batch_id)
    return fresh


def bump_batch_revision(batch_id: Any) -> None:
    """A target of this batch changed: move its revision (one UPDATE, in the caller's
    transaction), so the cached status partial and its ETag are renewed. No batch, no query."""
    if batch_id is not None:
        # (Imported here: batch_live renders through services.batches, which imports this module.)
        from sessions.batch_live import forget_batch

        Batch.objects.filter(pk=batch_id).update(revision=F("revision") + 1)
        forget_batch(batch_id)  # the next poll reads the new revision


def session_answer(
    *, session: FlowSession, user: User, node_id: str, choice: str, note: str | None = None
) -> FlowSession:
    """Troubleshooting: answer the current decision, or confirm the current action.

    The node's note moves onto the path entry: the one sent with the answer, else the pending
    note saved as the engineer typed."""
    note = None if note is None else clean_text(note, name="note")

    def change(fresh: FlowSession) -> None:
        if not fresh.is_troubleshooting:
            raise SessionError("Only troubleshooting sessions take answers.")
        node = runtime.current_node(fresh)
        if node is None or node.get("id") != node_id:
            raise SessionError(
                "That step is no longer the current one (answered in another tab?). "
                "The page now shows where the session is."
            )
        target = next_node_for(node, choice)
        pending = runtime.pending_note(fresh, node_id)
        fresh.path = [
            *fresh.path,
            {
                "node_id": node_id,
                "choice": choice,
                "note": pending if note is None else note,
                "at": now_iso(),
                "next_node_id": target,
            },
        ]
        set_pending_note(fresh, node_id, "")
        fresh.current_node_id = str(target)
        payload = {"choice": str(choice)[:200], "next": str(target)}
        record_event(fresh, user, EventKind.ANSWER, node_id=node_id, payload=payload)

    return mutate(session, user, change, "path", "step_state", "current_node_id")


def set_pending_note(session: FlowSession, node_id: str, note: str) -> None:
    """A troubleshooting node's unanswered note lives in step_state until it is answered."""
    state = {k: v for k, v in (session.step_state.get(node_id) or {}).items() if k != "note"}
    if note:
        state["note"] = note
    rest = {k: v for k, v in session.step_state.items() if k != node_id}
    session.step_state = {**rest, node_id: state} if state else rest


def next_node_for(node: dict[str, Any], choice: str) -> str:
    if node.get("type") == "decision":
        for option in nodes.decision_options(node):
            if option.get("label") == choice:
                return _target(option.get("next_node_id"))
        raise SessionError(f"“{choice}” is not an option of this question.")
    if node.get("type") == "action":
        return _target(node.get("next_node_id"))
    raise SessionError("This is a solution: complete the session instead.")


def _target(value: Any) -> str:
    """Where an answer leads; a run begun before the shape rules may hold a broken link."""
    if isinstance(value, str) and value:
        return value
    raise SessionError("This answer leads nowhere in this run's copy of the flow.")


def session_back(*, session: FlowSession, user: User) -> FlowSession:
    """Undo the last answer; its note becomes that node's pending note again, so it is
    back in the box when the engineer returns to the question."""

    def change(fresh: FlowSession) -> None:
        if not fresh.path:
            raise SessionError("Nothing to undo: this is the first question.")
        last = fresh.path[-1]
        fresh.path = fresh.path[:-1]
        set_pending_note(fresh, str(last.get("node_id")), last.get("note") or "")
        fresh.current_node_id = str(last.get("node_id") or "")
        payload = {"from": str(last.get("next_node_id") or "")}
        record_event(fresh, user, EventKind.BACK, node_id=fresh.current_node_id, payload=payload)

    return mutate(session, user, change, "path", "step_state", "current_node_id")


def session_step_update(
    *,
    session: FlowSession,
    user: User,
    step_id: str,
    done: bool | None = None,
    note: str | None = None,
    value: str | None = None,
) -> FlowSession:
    """Tick, untick or annotate one step (procedural), or annotate a node (troubleshooting).

    Setting `done` to what it already is changes nothing, so a double-click is harmless."""
    if note is not None:
        note = clean_text(note, name="note")
    if value is not None:
        value = clean_text(value, name="value", limit=2000)

    def change(fresh: FlowSession) -> None:
        if step_id not in runtime.step_ids(fresh):
            raise SessionError(f"This session has no step “{step_id}”.")
        if done is not None and fresh.is_troubleshooting:
            raise SessionError("Troubleshooting nodes are answered, not ticked.")
        if note is not None and fresh.is_troubleshooting and not note_fits_node(fresh, step_id):
            if last_path_note(fresh, step_id) == note:
                return  # a save that raced its own answer: the path already holds this text
            raise SessionError(
                "That question is no longer the current one (answered in another tab?): "
                "reload the page to see where the session is."
            )
        state = dict(fresh.step_state.get(step_id) or {})
        if done is not None and bool(state.get("done")) != done:
            if done:
                record_event(
                    fresh, user, EventKind.TICK, node_id=step_id, elapsed_s=since_last_tick(fresh)
                )
            else:
                record_event(fresh, user, EventKind.UNTICK, node_id=step_id)
            state["done"] = done
            state["at"] = now_iso() if done else None
        if note is not None and note != (state.get("note") or ""):
            record_event(fresh, user, EventKind.NOTE, node_id=step_id, payload={"chars": len(note)})
            state["note"] = note
        if value is not None and value != (state.get("value") or ""):
            record_event(fresh, user, EventKind.NOTE, node_id=step_id, payload={"value": True})
            state["value"] = value
        fresh.step_state = {**fresh.step_state, step_id: state}

    return mutate(session, user, change, "step_state")


def since_last_tick(session: FlowSession) -> int | None:
    """Seconds since the session's latest tick, or since it started: how long this step took."""
    ticks = [
        datetime.fromisoformat(state["at"])
        for state in session.step_state.values()
        if isinstance(state, dict) and state.get("done") and isinstance(state.get("at"), str)
    ]
    previous = max([*ticks, *([session.started_at] if session.started_at else [])], default=None)
    if previous is None:
        return None
    return max(0, round((timezone.now() - previous).total_seconds()))


def note_fits_node(session: FlowSession, node_id: str) -> bool:
    """A troubleshooting note is typed on the node the session is on."""
    return (runtime.current_node(session) or {}).get("id") == node_id


def last_path_note(session: FlowSession, node_id: str) -> str | None:
    entries = [e for e in session.path if e.get("node_id") == node_id]
    return (entries[-1].get("note") or "") if entries else None


def session_custom_step_add(
    *,
    session: FlowSession,
    user: User,
    inserted_after: str,
    title: str,
    instructions: str = "",
    commands: Any = None,
    source: str = "ad-hoc",
    library_step: Any = None,
) -> tuple[FlowSession, dict[str, Any]]:
    """Insert an engineer's own step after any step (or custom step) of a procedural run.
    With ``source="library"`` the entry must be one the user may see; its use is counted in
    the same transaction as the insert."""
    title = clean_text(title, name="title", limit=255).strip()
    if not title:
        raise ValidationError({"title": "Give the step a title."})
    instructions = clean_text(instructions, name="instructions")
    if source not in ("ad-hoc", "library"):
        raise ValidationError({"source": "Source is ad-hoc or library."})
    entry = library_entry(user=user, library_step=library_step) if source == "library" else None
    custom = {
        "id": f"custom-{uuid.uuid4().hex[:10]}",
        "inserted_after": inserted_after,
        "title": title,
        "instructions": instructions,
        "commands": structure.normalise_commands(commands),
        "source": source,
        "library_step": str(entry.pk) if entry else None,
    }

    def change(fresh: FlowSession) -> None:
        if fresh.is_troubleshooting:
            raise SessionError("Custom steps belong to procedural and maintenance sessions.")
        if inserted_after not in runtime.anchor_ids(fresh):
            raise SessionError(f"There is no step “{inserted_after}” to insert after.")
        if len(fresh.custom_steps) >= MAX_CUSTOM_STEPS:
            raise SessionError(f"A session holds at most {MAX_CUSTOM_STEPS} custom steps.")
        fresh.custom_steps = [*fresh.custom_steps, custom]
        payload = {"custom_id": custom["id"], "source": source}
        record_event(fresh, user, EventKind.CUSTOM_ADDED, node_id=inserted_after, payload=payload)

    with transaction.atomic():
        fresh = mutate(session, user, change, "custom_steps")
        if entry is not None:
            library_step_record_use(step=entry)
    return fresh, custom


def library_entry(*, user: User, library_step: Any) -> LibraryStep:
    """The library entry a custom step comes from; another team's or a teammate's private
    entry does not exist as far as this user is concerned."""
    try:
        pk = uuid.UUID(str(library_step))
    except ValueError:
        raise ValidationError({"library_step": "Choose a step from the library."}) from None
    entry = LibraryStep.objects.for_user(user).filter(pk=pk).first()
    if entry is None:
        raise ValidationError({"library_step": "That library step does not exist."})
    return entry


def session_custom_step_from_library(
    *, session: FlowSession, user: User, inserted_after: str, library_step: Any
) -> tuple[FlowSession, dict[str, Any]]:
    """Insert a library entry, as it is now, as a custom step (source "library")."""
    entry = library_entry(user=user, library_step=library_step)
    return session_custom_step_add(
        session=session,
        user=user,
        inserted_after=inserted_after,
        source="library",
        library_step=entry.pk,
        **entry.as_custom_step(),
    )


def session_custom_step_remove(*, session: FlowSession, user: User, custom_id: str):
    """Remove a custom step; custom steps that followed it move up to its place."""

    def change(fresh: FlowSession) -> None:
        removed = next((c for c in fresh.custom_steps if c["id"] == custom_id), None)
        if removed is None:
            raise SessionError("That custom step does not exist (removed in another tab?).")
        fresh.custom_steps = [
            {**c, "inserted_after": removed["inserted_after"]}
            if c.get("inserted_after") == custom_id
            else c
            for c in fresh.custom_steps
            if c["id"] != custom_id
        ]
        fresh.step_state = {k: v for k, v in fresh.step_state.items() if k != custom_id}
        payload = {"inserted_after": removed["inserted_after"]}
        record_event(fresh, user, EventKind.CUSTOM_REMOVED, node_id=custom_id, payload=payload)

    return mutate(session, user, change, "custom_steps", "step_state")


@transaction.atomic
def session_feedback_set(
    *, session: FlowSession, user: User, node_id: str, helpful: bool | None
) -> bool | None:
    """Thumbs up/down on a step; the same vote again (or None) clears it. Returns the vote now.
    A step synced to the library moves that entry's helpful counts by the change."""
    fresh = locked_open_session(session, user)
    if node_id.startswith("custom-") or node_id not in runtime.step_ids(fresh):
        raise SessionError("Feedback is for the flow's own steps.")
    existing = StepFeedback.objects.filter(session=fresh, user=user, node_id=node_id).first()
    old = existing.helpful if existing else None
    if helpful is None or (existing and existing.helpful == helpful):
        if existing:
            existing.delete()
        new = None
    else:
        StepFeedback.objects.update_or_create(
            session=fresh, user=user, node_id=node_id, defaults={"helpful": helpful}
        )
        new = helpful
    if fresh.tree_id is not None:
        library_step_vote(tree_id=fresh.tree_id, node_id=node_id, old=old, new=new)
    if new != old:
        names = {True: "up", False: "down", None: "cleared"}
        payload = {"vote": names[new], "was": names[old]}
        record_event(fresh, user, EventKind.THUMBS, node_id=node_id, payload=payload)
    return new


def feedback_votes(session: FlowSession, user: User) -> dict[str, bool]:
    return dict(
        StepFeedback.objects.filter(session=session, user=user).values_list("node_id", "helpful")
    )


# --- finishing --------------------------------------------------------------------------


@transaction.atomic
def session_complete(
    *,
    session: FlowSession,
    user: User,
    outcome: str,
    outcome_notes: str = "",
    next_steps: str = "",
) -> FlowSession:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    fresh = locked_open_session(session, user)
    fresh.outcome = outcome
    fresh.outcome_notes = clean_text(outcome_notes, name="outcome_notes")
    fresh.next_steps = clean_text(next_steps, name="next_steps")
    fresh.status = SessionStatus.COMPLETED
    fresh.completed_at = timezone.now()
    fresh.save()
    bump_batch_revision(fresh.batch_id)
    record_event(
        fresh, user, EventKind.COMPLETE, node_id=fresh.current_node_id, payload={"outcome": outcome}
    )
    record_events(fresh, skipped_events(fresh, user))
    if fresh.batch_id is not None:
        from sessions.services.batches import after_target_finished  # batches builds on us

        after_target_finished(fresh, user)
    return fresh


def skipped_events(session: FlowSession, user: User) -> list[SessionEvent]:
    """One "skipped" event per flow step a completed checklist left unticked."""
    return [
        SessionEvent(
            session_id=session.pk,
            tree_id=session.tree_id,
            user=user,
            kind=EventKind.SKIPPED,
            node_id=str(node.get("id"))[:100],
            at=session.completed_at,
        )
        for node in runtime.snapshot_steps(session)
        if node.get("type") == "procedure_step"
        and not (session.step_state.get(str(node.get("id"))) or {}).get("done")
    ]


@transaction.atomic
def session_rate(
    *, session: FlowSession, user: User, rating: int, comment: str = ""
) -> FlowSession:
    fresh = FlowSession.objects.select_for_update().get(pk=session.pk)
    if not fresh.can_run(user):
        raise PermissionDenied("Only the engineer who ran this session can rate it.")
    if not fresh.is_completed:
        raise SessionError("Rate a session once it is completed.")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": "A rating is 1 to 5."})
    was = fresh.rating
    fresh.rating = rating
    fresh.rating_comment = clean_text(comment, name="comment", limit=1000)
    fresh.save(update_fields=["rating", "rating_comment", "updated_at"])
    payload = {"rating": rating, "was": was, "comment": bool(fresh.rating_comment)}
    record_event(fresh, user, EventKind.RATING, payload=payload)
    return fresh


@transaction.atomic
def session_mark_exported(*, session: FlowSession, user: User) -> None:
    """Record that the session's text left the app (Copy for Ticket, a download): every
    export is an event; the first also marks the session."""
    if not session.can_mark_exported(user):
        raise PermissionDenied("Only the engineer who ran this session or an admin can mark it.")
    if not session.exported:
        FlowSession.objects.filter(pk=session.pk).update(exported=True)
        session.exported = True
    record_event(session, user, EventKind.EXPORT)


@transaction.atomic
def session_copied_for_ticket(
    *,
    session: FlowSession,
    user: User,
    choice: str,
    found: int,
    kept: int,
    kinds: list[str] | None = None,
    request: Any = None,
) -> None:
    """Copy for Ticket (issue 14): the text left the app after the engineer chose to redact
    all findings, review them one by one, or copy as is (`kept` of `found` left in). The
    account's "always redact" refuses copying as is; any copy with findings left in is
    recorded on the session's timeline and, with findings left in, on the audit trail."""
    account = session.account
    check_copy_choice(account, choice=choice, found=found, kept=kept)
    if session.can_mark_exported(user):
        session_mark_exported(session=session, user=user)
    record_event(
        session,
        user,
        EventKind.COPY,
        payload={
            "choice": choice,
            "found": found,
            "kept": kept,
            "kinds": sorted(set(kinds or []))[:20],
        },
    )
    if kept:
        audit_record(
            AuditAction.EXPORT_UNREDACTED,
            actor=user,
            account=account,
            target=session,
            detail={
                "choice": choice,
                "found": found,
                "kept": kept,
                "kinds": sorted(set(kinds or []))[:20],
            },
            request=request,
        )


COPY_CHOICES = ("all", "review", "none")


def check_copy_choice(account: Any, *, choice: str, found: int, kept: int) -> None:
    """A Copy for Ticket choice that adds up and that the team's "always redact" allows (the
    same rule for a session's report and a batch's)."""
    if choice not in COPY_CHOICES:
        raise SessionError(f"Choose one of: {', '.join(COPY_CHOICES)}.")
    if kept < 0 or found < 0 or kept > found or (choice == "all" and kept):
        raise SessionError("The numbers of findings found and kept do not add up.")
    if choice == "none" and found and account is not None and account.always_redact:
        raise SessionError("Your team always redacts: copy the redacted text or review it.")
