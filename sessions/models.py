"""Sessions: one engineer's run of a flow, with every decision, tick and note kept."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role
from accounts.querysets import AccountScopedQuerySet
from flows import structure

if TYPE_CHECKING:
    from accounts.models import User


class SessionStatus(models.TextChoices):
    PENDING = "pending", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class Outcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    ESCALATED = "escalated", "Escalated"
    WORKAROUND = "workaround", "Workaround applied"
    UNRESOLVED = "unresolved", "Unresolved"
    CANCELLED = "cancelled", "Cancelled"
    RESOLVED_EXTERNALLY = "resolved_externally", "Resolved externally"


# Every batch session knows its target's label as [VAR:target].
BUILTIN_TARGET_VARIABLE = "target"

# Icon and Bootstrap colour of each outcome, for cards, badges and dots.
OUTCOME_STYLE = {
    Outcome.RESOLVED: ("check-circle-fill", "success"),
    Outcome.ESCALATED: ("arrow-up-right-circle-fill", "warning"),
    Outcome.WORKAROUND: ("bandaid-fill", "info"),
    Outcome.UNRESOLVED: ("x-circle-fill", "danger"),
    Outcome.CANCELLED: ("slash-circle", "secondary"),
    Outcome.RESOLVED_EXTERNALLY: ("box-arrow-up-right", "primary"),
}


class TargetMark(models.TextChoices):
    """What a batch target can be marked instead of run to an outcome; none counts as resolved."""

    SKIPPED = "skipped", "Skipped"
    BLOCKED = "blocked", "Blocked"
    UNREACHABLE = "unreachable", "Unreachable"


# Icon and colour of each mark (distinct from every outcome's).
MARK_STYLE = {
    TargetMark.SKIPPED: ("skip-forward-circle", "secondary"),
    TargetMark.BLOCKED: ("sign-stop-fill", "danger"),
    TargetMark.UNREACHABLE: ("wifi-off", "dark"),
}


def humanise_duration(delta: timedelta | None) -> str:
    """ "23 min", "1 h 5 min": how long a session took, as the ticket should say it."""
    if delta is None:
        return ""
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class TargetList(models.Model):
    """A saved list of servers (or anything) to run a maintenance flow across."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="target_lists"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    targets = models.JSONField(default=list, blank=True, help_text="[{label, notes}]")
    # Intake answers a batch launched on this list starts with (editable on the launch form).
    default_variables = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["account", "name"])]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    """One launch of a maintenance flow over N targets: one session per target."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tree = models.ForeignKey("flows.Tree", on_delete=models.CASCADE, related_name="batches")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    target_list = models.ForeignKey(
        TargetList, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    ticket_number = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moves (in the same transaction) whenever a target changes in a way the status page shows:
    # the status partial is rendered once per revision and served from the cache until then.
    revision = models.PositiveIntegerField(default=0, editable=False)
    # The intake answers of the launch: the next launch of the flow starts from them.
    variables = models.JSONField(default=dict, blank=True)
    # Only the first `canary` targets (launch order) start until all of them are resolved.
    canary = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pause_reason = models.CharField(max_length=300, blank=True)
    relaunched_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="relaunches"
    )

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"
        indexes = [models.Index(fields=["tree", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.tree} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class FlowSessionQuerySet(AccountScopedQuerySet["FlowSession"]):
    def visible_q(self, user: User) -> Q:
        """Their own sessions; the account's when admin+; and the account's batch sessions,
        which a whole team works through together."""
        if user.account_id is None:
            return Q(user_id=user.pk)
        mine = Q(account_id=user.account_id)
        if not user.has_role(Role.ADMIN):
            mine &= Q(user_id=user.pk) | Q(batch__isnull=False)
        return mine

    def with_list_data(self) -> FlowSessionQuerySet:
        return self.select_related("tree", "user", "batch", "account")


class FlowSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tree = models.ForeignKey(
        "flows.Tree", null=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    # What the engineer ran, frozen at start: later edits of the flow never rewrite history.
    tree_name = models.CharField(max_length=255)
    tree_type = models.CharField(max_length=20)
    structure_snapshot = models.JSONField(default=dict)
    intake_form_snapshot = models.JSONField(default=list, blank=True)
    # The published version that was run (null: run before versions existed, or unmatched).
    version = models.ForeignKey(
        "flows.TreeVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flow_sessions",
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.IN_PROGRESS
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    ticket_number = models.CharField(max_length=100, blank=True)
    client_name = models.CharField(max_length=200, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    path = models.JSONField(default=list, blank=True)
    # Troubleshooting: the node the session is on (or ended on), kept beside `path` by the
    # services so analytics count exit and abandonment points in SQL.
    current_node_id = models.CharField(max_length=100, blank=True)
    step_state = models.JSONField(default=dict, blank=True)
    custom_steps = models.JSONField(default=list, blank=True)
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    target_label = models.CharField(max_length=200, blank=True)
    # Batch targets: launch order (canary = the first N), which attempt this is, and whether it
    # is the target's latest attempt (earlier attempts stay readable, the cards show the latest).
    position = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    current = models.BooleanField(default=True)
    mark = models.CharField(max_length=16, choices=TargetMark.choices, blank=True)
    mark_note = models.TextField(blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=1000, blank=True)
    exported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FlowSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="session_account_idx"),
            models.Index(fields=["user", "-created_at"], name="session_user_idx"),
            models.Index(fields=["tree", "-created_at"], name="session_tree_idx"),
            models.Index(fields=["batch", "target_label"], name="session_batch_idx"),
            models.Index(fields=["account", "status", "outcome"], name="session_state_idx"),
            # Analytics: a flow's open runs (abandonment is read live).
            models.Index(fields=["tree", "status", "started_at"], name="session_tree_status_idx"),
            # Analytics: a flow's latest rating comments.
            models.Index(
                fields=["tree", "-completed_at"],
                condition=~Q(rating_comment=""),
                name="session_comment_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "target_label"],
                condition=Q(batch__isnull=False, current=True),
                name="session_unique_batch_target",
            ),
            models.UniqueConstraint(
                fields=["batch", "target_label", "attempt"],
                condition=Q(batch__isnull=False),
                name="session_unique_target_attempt",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="session_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tree_name} · {self.target_label or self.ticket_number or self.pk}"

    @property
    def is_completed(self) -> bool:
        return self.status == SessionStatus.COMPLETED

    @property
    def is_troubleshooting(self) -> bool:
        return self.tree_type == "troubleshooting"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.completed_at:
            return self.completed_at - self.started_at
        return None

    @property
    def duration_text(self) -> str:
        return humanise_duration(self.duration)

    @property
    def outcome_icon(self) -> str:
        return OUTCOME_STYLE.get(self.outcome, ("circle", "secondary"))[0]

    @property
    def outcome_colour(self) -> str:
        return OUTCOME_STYLE.get(self.outcome, ("circle", "secondary"))[1]

    def fill(self, text: Any) -> str:
        """Text as the engineer reads it: [VAR:name] replaced by the intake answers."""
        if not isinstance(text, str):
            return "" if text is None else str(text)
        return structure.fill_variables(text, {k: str(v) for k, v in self.variables.items()})

    @property
    def mark_icon(self) -> str:
        return MARK_STYLE.get(self.mark, ("circle", "secondary"))[0]

    @property
    def mark_colour(self) -> str:
        return MARK_STYLE.get(self.mark, ("circle", "secondary"))[1]

    def can_run(self, user: User) -> bool:
        """Only the engineer running a session changes it."""
        return self.user_id is not None and self.user_id == user.pk

    def can_mark_exported(self, user: User) -> bool:
        """The runner, or an admin (owner) of the session's account: a teammate reading or
        downloading the session does not make it "exported"."""
        if self.can_run(user) or user.is_staff:
            return True
        return user.account_id == self.account_id and user.has_role(Role.ADMIN)


class StepFeedback(models.Model):
    """A thumbs up or down on one step of one session, by one user."""

    session = models.ForeignKey(FlowSession, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=100)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user", "node_id"], name="feedback_one_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id}: {'👍' if self.helpful else '👎'}"


class EventKind(models.TextChoices):
    """Every kind of change a session records. ``SKIPPED`` is written at completion, once per
    flow step left unticked, so "how often was it skipped" is a plain count in SQL."""

    START = "start", "Started"
    ANSWER = "answer", "Answered"
    BACK = "back", "Went back"
    TICK = "tick", "Ticked"
    UNTICK = "untick", "Unticked"
    NOTE = "note", "Note"
    CUSTOM_ADDED = "custom_added", "Custom step added"
    CUSTOM_REMOVED = "custom_removed", "Custom step removed"
    THUMBS = "thumbs", "Thumbs"
    COMPLETE = "complete", "Completed"
    SKIPPED = "skipped", "Left unticked"
    RATING = "rating", "Rated"
    EXPORT = "export", "Exported"
    COPY = "copy", "Copied for ticket"
    HANDOVER = "handover", "Handed over"
    MARKED = "marked", "Marked"
    RETRIED = "retried", "Retried"


class SessionEvent(models.Model):
    """One change to a session, appended in the same transaction as the change: who did which
    step when. Analytics read this log; it is never edited."""

    session = models.ForeignKey(FlowSession, on_delete=models.CASCADE, related_name="events")
    # The session's flow, copied so analytics filter the log by flow without a join.
    tree = models.ForeignKey(
        "flows.Tree", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    node_id = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(default=timezone.now)
    # Ticks: seconds since the session's previous tick (or its start), for "took longest".
    elapsed_s = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["session", "at"], name="event_session_idx"),
            models.Index(fields=["tree", "kind", "at"], name="event_tree_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.node_id}".strip()


ALL_TIME = date(1, 1, 1)


class FlowCount(models.Model):
    """Analytics rollup: one counter per flow, day (the run's start day), key and node; the
    day ALL_TIME holds the flow's all-time totals, so "all" reads a few hundred rows.

    Written only by ``sessions.rollup`` from ``record_event``, in the transaction of the event
    it counts, so it always agrees with the log; ``manage.py analytics_rebuild`` recomputes it
    from sessions and events. Keys: run, out:<group>, dur (node = minutes), star (node = 1–5),
    ended, arrive, tick, tick_s, tick_n, skipped, custom, up, down."""

    tree = models.ForeignKey("flows.Tree", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    key = models.CharField(max_length=16)
    node_id = models.CharField(max_length=100, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tree", "day", "key", "node_id"], name="flowcount_unique"
            )
        ]
        # Covering on PostgreSQL (SQLite skips `include`): a period's sums, and the weekly
        # runs and outcomes, are index-only scans.
        indexes = [
            models.Index(
                fields=["tree", "day"],
                include=["key", "node_id", "value"],
                name="flowcount_period_idx",
            ),
            models.Index(
                fields=["tree", "key", "day"], include=["value"], name="flowcount_key_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.key} {self.node_id}: {self.value}"


class Notification(models.Model):
    """An in-app message to one engineer (a session handed to them or taken from them); the
    dashboard shows the unread count as a badge."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    session = models.ForeignKey(
        FlowSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.text
