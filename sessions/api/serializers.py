from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions import analytics, batch_report, runtime
from sessions.exports import FORMATS
from sessions.models import Batch, FlowSession, Outcome, TargetList, TargetMark
from sessions.services.targets import MAX_TARGETS, target_list_save


def email_of(source: str) -> serializers.EmailField:
    """A person's email, null once they are deleted (or for nobody yet)."""
    return serializers.EmailField(source=source, read_only=True, default=None, allow_null=True)


def outcome_field() -> serializers.ChoiceField:
    """The outcome, "" until the session is completed (read-only fields lose `allow_blank`)."""
    return serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)


class FlowSessionSerializer(serializers.ModelSerializer):
    tree = serializers.UUIDField(source="tree_id", read_only=True, allow_null=True)
    user = email_of("user.email")
    outcome = outcome_field()
    batch_id = serializers.UUIDField(read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    current_node_id = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = FlowSession
        fields = [
            "id",
            "tree",
            "tree_name",
            "tree_type",
            "user",
            "status",
            "outcome",
            "outcome_notes",
            "next_steps",
            "ticket_number",
            "client_name",
            "variables",
            "path",
            "step_state",
            "custom_steps",
            "batch_id",
            "target_label",
            "rating",
            "rating_comment",
            "exported",
            "progress",
            "current_node_id",
            "created_at",
            "started_at",
            "completed_at",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_progress(self, session: FlowSession) -> dict[str, int]:
        progress = runtime.progress(session)
        return {"done": progress.done, "total": progress.total}

    def get_current_node_id(self, session: FlowSession) -> str | None:
        if not session.is_troubleshooting:
            return None
        node = runtime.current_node(session)
        return node.get("id") if node else None

    def get_duration_seconds(self, session: FlowSession) -> int | None:
        return int(session.duration.total_seconds()) if session.duration else None


class FlowSessionDetailSerializer(FlowSessionSerializer):
    structure_snapshot = serializers.JSONField(read_only=True)

    class Meta(FlowSessionSerializer.Meta):
        fields = [*FlowSessionSerializer.Meta.fields, "structure_snapshot", "intake_form_snapshot"]
        read_only_fields = fields


class SessionStartSerializer(serializers.Serializer):
    tree = serializers.UUIDField()
    ticket_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    client_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False
    )


class AnswerSerializer(serializers.Serializer):
    node_id = serializers.CharField(max_length=100)
    choice = serializers.CharField(max_length=500, help_text="An option label, or 'done'.")
    note = serializers.CharField(
        max_length=10_000,
        required=False,
        allow_blank=True,
        help_text="Left out: the node's pending note (saved through steps/{node_id}/) is kept.",
    )


class StepUpdateSerializer(serializers.Serializer):
    done = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = serializers.CharField(
        max_length=10_000, required=False, allow_null=True, default=None, allow_blank=True
    )
    value = serializers.CharField(
        max_length=2000, required=False, allow_null=True, default=None, allow_blank=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if all(attrs.get(k) is None for k in ("done", "note", "value")):
            raise serializers.ValidationError("Send at least one of done, note, value.")
        return attrs


COMMAND = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "language": {"type": "string"},
        "label": {"type": "string"},
    },
}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            COMMAND,
            {"type": "array", "items": {"oneOf": [{"type": "string"}, COMMAND]}},
        ],
        "description": "A command's code, a command, or a list of either.",
    }
)
class CommandsField(serializers.JSONField):
    """Commands as the flow format reads them (`structure.normalise_commands`)."""


class CustomStepSerializer(serializers.Serializer):
    inserted_after = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=255)
    instructions = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    commands = CommandsField(required=False)
    source = serializers.ChoiceField(choices=["ad-hoc", "library"], default="ad-hoc")
    library_step = serializers.CharField(max_length=64, required=False, allow_null=True)


class FeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField(allow_null=True, help_text="true, false, or null to clear")


class CompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    next_steps = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class RateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(FORMATS), default="psa")
    timestamps = serializers.BooleanField(default=True)
    cut_off = serializers.IntegerField(min_value=1, required=False)
    include_commands = serializers.BooleanField(required=False, allow_null=True, default=None)
    redact = serializers.BooleanField(default=False)


class TargetSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class TargetListSerializer(serializers.ModelSerializer):
    targets = TargetSerializer(many=True)
    created_by = email_of("created_by.email")
    default_variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text="Intake answers a batch launched on this list starts with.",
    )

    class Meta:
        model = TargetList
        fields = [
            "id",
            "name",
            "description",
            "targets",
            "default_variables",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> TargetList:
        return target_list_save(user=self.context["request"].user, **validated_data)

    def update(self, instance: TargetList, validated_data: dict[str, Any]) -> TargetList:
        data = {
            "name": instance.name,
            "description": instance.description,
            "targets": instance.targets,
            **validated_data,
        }
        return target_list_save(user=self.context["request"].user, target_list=instance, **data)


class BatchTargetSerializer(serializers.ModelSerializer):
    """One target of a batch with its state and step progress."""

    state = serializers.SerializerMethodField()
    user = email_of("user.email")
    assigned_to = email_of("assigned_to.email")
    outcome = outcome_field()
    note = serializers.CharField(source="mark_note", read_only=True)
    waiting_for_canary = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()

    class Meta:
        model = FlowSession
        fields = [
            "id",
            "target_label",
            "status",
            "state",
            "outcome",
            "note",
            "attempt",
            "user",
            "assigned_to",
            "waiting_for_canary",
            "step",
            "steps",
            "started_at",
            "completed_at",
        ]

    def card(self, session: FlowSession):  # type: ignore[no-untyped-def]
        return self.context["cards"][session.pk]

    @extend_schema_field(
        serializers.ChoiceField(
            choices=["not_started", "in_progress", "complete", *TargetMark.values]
        )
    )
    def get_state(self, session: FlowSession) -> str:
        """not_started, in_progress, complete (see `outcome`), skipped, blocked, unreachable."""
        return self.card(session).state

    def get_waiting_for_canary(self, session: FlowSession) -> bool:
        return self.card(session).waiting

    def get_step(self, session: FlowSession) -> int | None:
        return self.card(session).step or None

    def get_steps(self, session: FlowSession) -> int | None:
        return self.card(session).steps or None


class BatchSerializer(serializers.ModelSerializer):
    tree = serializers.UUIDField(source="tree_id", read_only=True)
    created_by = email_of("created_by.email")
    targets = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    paused = serializers.SerializerMethodField()
    paused_by = email_of("paused_by.email")
    relaunched_from = serializers.UUIDField(
        source="relaunched_from_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Batch
        fields = [
            "id",
            "tree",
            "created_by",
            "created_at",
            "ticket_number",
            "variables",
            "canary",
            "paused",
            "paused_by",
            "pause_reason",
            "relaunched_from",
            "target_list",
            "progress",
            "summary",
            "targets",
        ]

    def status(self, batch: Batch):  # type: ignore[no-untyped-def]
        return self.context["status"]

    @extend_schema_field(BatchTargetSerializer(many=True))
    def get_targets(self, batch: Batch) -> list[dict[str, Any]]:
        status = self.status(batch)
        cards = {card.session.pk: card for card in status.cards}
        sessions = [card.session for card in status.cards]
        return BatchTargetSerializer(sessions, many=True, context={"cards": cards}).data

    def get_progress(self, batch: Batch) -> dict[str, int]:
        status = self.status(batch)
        return {
            "complete": status.complete,
            "in_progress": status.in_progress,
            "total": status.total,
            "percent": status.percent,
        }

    def get_summary(self, batch: Batch) -> str:
        return self.status(batch).summary

    def get_paused(self, batch: Batch) -> bool:
        return batch.is_paused


class BatchLaunchSerializer(serializers.Serializer):
    tree = serializers.UUIDField()
    targets = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=MAX_TARGETS + 1,
        help_text="Labels, or {label, notes} objects.",
    )
    target_list = serializers.IntegerField(required=False)
    ticket_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False
    )
    canary = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text="Only the first N targets start first."
    )
    assign = serializers.JSONField(
        required=False,
        help_text='"round_robin" over the team\'s engineers, or {target label: engineer email}.',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("targets") and attrs.get("target_list") is None:
            raise serializers.ValidationError({"targets": "Give targets or a target_list."})
        return attrs


# --- analytics (read-only answers; the figures come from sessions.analytics) ------------


class AnalyticsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=list(analytics.PERIODS), default=analytics.DEFAULT_PERIOD, required=False
    )


class OutcomeCountsSerializer(serializers.Serializer):
    resolved = serializers.IntegerField(help_text="Resolved, workaround, resolved externally.")
    escalated = serializers.IntegerField()
    unresolved = serializers.IntegerField(help_text="Unresolved and cancelled.")
    abandoned = serializers.IntegerField(help_text="In progress, untouched for 7 days.")
    in_progress = serializers.IntegerField()


class DurationSerializer(serializers.Serializer):
    median_s = serializers.IntegerField(allow_null=True)
    p90_s = serializers.IntegerField(allow_null=True)


class NodeFiguresSerializer(serializers.Serializer):
    id = serializers.CharField()
    heading = serializers.CharField()
    reached = serializers.IntegerField(help_text="Runs that arrived at this node.")
    ended = serializers.IntegerField(help_text="Completed runs that ended on this node.")
    abandoned = serializers.IntegerField(help_text="Abandoned runs that stopped on this node.")


class StepFiguresSerializer(serializers.Serializer):
    id = serializers.CharField()
    heading = serializers.CharField()
    ticked = serializers.IntegerField(help_text="Runs that ticked it.")
    skipped = serializers.IntegerField(help_text="Completed runs that left it unticked.")
    custom_after = serializers.IntegerField(help_text="Runs with a custom step right after it.")
    thumbs_up = serializers.IntegerField()
    thumbs_down = serializers.IntegerField()
    avg_tick_s = serializers.IntegerField(
        allow_null=True, help_text="Average seconds from the previous tick to this one."
    )
    flags = serializers.ListField(child=serializers.ChoiceField(analytics.FLAG_CHOICES))


class RatingsSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Stars ("1"…"5") → ratings.'
    )


class WeekSerializer(OutcomeCountsSerializer):
    week = serializers.DateField(help_text="The Monday the week starts on.")


class HistogramBinSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()


class FlagSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The step or node id; the flow's id for `stale`.")
    flag = serializers.ChoiceField(analytics.FLAG_CHOICES)


class FlowAnalyticsSerializer(serializers.Serializer):
    """A flow's figures over `period` (runs by start time, changes by event time)."""

    flow = serializers.UUIDField()
    period = serializers.ChoiceField(list(analytics.PERIODS))
    runs = serializers.IntegerField()
    outcomes = OutcomeCountsSerializer()
    duration = DurationSerializer()
    nodes = NodeFiguresSerializer(many=True, help_text="Troubleshooting flows; else empty.")
    steps = StepFiguresSerializer(many=True, help_text="Checklists; else empty.")
    ratings = RatingsSerializer()
    weeks = WeekSerializer(many=True)
    histogram = HistogramBinSerializer(many=True, help_text="Completed runs by duration.")
    flags = FlagSerializer(many=True, help_text="Step-health flags (last 90 days).")


class MarkSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=TargetMark.choices)
    note = serializers.CharField(max_length=2000, help_text="The reason (skipped) or a note.")


class HandoverSerializer(serializers.Serializer):
    to = serializers.EmailField(help_text="An engineer of the session's team.")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class TakeoverSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    to = serializers.EmailField(
        allow_null=True, help_text="An engineer of the team; null unassigns."
    )


class CancelledSerializer(serializers.Serializer):
    cancelled = serializers.IntegerField(help_text="How many not-started targets were skipped.")


class BatchReportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(batch_report.FORMATS), default="psa")
    redact = serializers.BooleanField(default=False)
