"""Sessions change hands (issue 13): the runner hands a session over to a teammate, or a
teammate takes it over while its runner is away. The session row is locked for the swap, the
same lock every tick, note and answer takes (runs.locked_open_session), so a tick either
lands before the swap (and is kept) or waits for it and is then refused as the old runner's:
nothing half-written, nothing lost."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from sessions.events import record_event
from sessions.models import EventKind, FlowSession, Notification, SessionStatus
from sessions.services.runs import SessionClosed, bump_batch_revision, clean_text

HANDOVER = "handover"
TAKEOVER = "takeover"


def locked_running(session: FlowSession) -> FlowSession:
    fresh = FlowSession.objects.select_for_update().get(pk=session.pk)
    if fresh.status != SessionStatus.IN_PROGRESS or fresh.mark:
        raise SessionClosed("Only a session in progress changes hands.")
    return fresh


def is_engineer_of(person: User, account_id: Any) -> bool:
    return (
        person.is_active
        and person.account_id is not None
        and person.account_id == account_id
        and person.can_edit_content
    )


def change_hands(fresh: FlowSession, *, actor: User, to: User, note: str, how: str) -> FlowSession:
    previous = fresh.user
    fresh.user = to
    fresh.save(update_fields=["user", "updated_at"])
    payload = {
        "how": how,
        "from": previous.display_name if previous else "",
        "from_id": previous.pk if previous else None,
        "to": to.display_name,
        "to_id": to.pk,
        "note": note,
    }
    record_event(fresh, actor, EventKind.HANDOVER, payload=payload)
    bump_batch_revision(fresh.batch_id)
    what = fresh.target_label or fresh.tree_name
    said = f": {note}" if note else ""
    if how == HANDOVER:
        to_text = f"{actor.display_name} handed {what} over to you{said}"
        from_text = f"{what} was handed over to {to.display_name}{said}"
    else:
        to_text = f"You took over {what}{said}"
        from_text = f"{to.display_name} took over {what} from you{said}"
    notes = [Notification(user=to, session=fresh, text=to_text[:500])]
    if previous is not None and previous.pk != to.pk:
        notes.append(Notification(user=previous, session=fresh, text=from_text[:500]))
    Notification.objects.bulk_create(notes)
    return fresh


@transaction.atomic
def session_handover(*, session: FlowSession, user: User, to: str, note: str = "") -> FlowSession:
    """The runner (or an admin) gives a running session to another engineer of the account;
    the new runner continues exactly where it was."""
    note = clean_text(note, name="note", limit=1000).strip()
    fresh = locked_running(session)
    is_admin = user.account_id == fresh.account_id and user.has_role(Role.ADMIN)
    if not fresh.can_run(user) and not is_admin:
        raise PermissionDenied("Only the engineer running this session or an admin hands it over.")
    person = User.objects.filter(email__iexact=str(to or "").strip()).first()
    if person is None or not is_engineer_of(person, fresh.account_id):
        raise ValidationError({"to": "Choose an engineer of this team."})
    if person.pk == fresh.user_id:
        raise ValidationError({"to": "They already run this session."})
    return change_hands(fresh, actor=user, to=person, note=note, how=HANDOVER)


@transaction.atomic
def session_takeover(*, session: FlowSession, user: User, note: str = "") -> FlowSession:
    """An engineer or admin of the account takes a running session over from its runner."""
    note = clean_text(note, name="note", limit=1000).strip()
    fresh = locked_running(session)
    if not is_engineer_of(user, fresh.account_id):
        raise PermissionDenied("Only engineers of this team take over a session.")
    if fresh.user_id == user.pk:
        raise SessionClosed("You already run this session.")
    return change_hands(fresh, actor=user, to=user, note=note, how=TAKEOVER)


def handover_line(payload: dict[str, Any], at: Any, *, tz: Any = None) -> str:
    """ "Handed over from A to B at 14:02: note" — as the ticket export says it."""
    local = timezone.localtime(at, tz) if tz else timezone.localtime(at)
    verb = "Taken over" if payload.get("how") == TAKEOVER else "Handed over"
    said = f": {payload['note']}" if payload.get("note") else ""
    return f"{verb} from {payload.get('from') or '—'} to {payload.get('to')} at {local:%H:%M}{said}"


def handover_options(session: FlowSession, user: User) -> dict[str, Any]:
    """What the session page offers this user: hand over (runner or admin, with the team's
    other engineers to choose from) or take over (another engineer of the team)."""
    running = session.status == SessionStatus.IN_PROGRESS and not session.mark
    is_admin = user.account_id == session.account_id and user.has_role(Role.ADMIN)
    can_hand = running and (session.can_run(user) or is_admin)
    can_take = running and not session.can_run(user) and is_engineer_of(user, session.account_id)
    engineers: list[User] = []
    if can_hand:
        people = User.objects.filter(account_id=session.account_id, is_active=True)
        engineers = [
            p for p in people.order_by("email") if p.can_edit_content and p.pk != session.user_id
        ]
    return {"can_hand_over": can_hand, "can_take_over": can_take, "engineers": engineers}


def unread_notifications(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)


def notifications_read(*, user: User) -> int:
    return unread_notifications(user).update(read_at=timezone.now())
