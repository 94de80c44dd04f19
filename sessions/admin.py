from django.contrib import admin

from resolutionflow.pages import pretty_json
from sessions import services
from sessions.models import Batch, FlowSession, SessionEvent, StepFeedback, TargetList


@admin.register(FlowSession)
class FlowSessionAdmin(admin.ModelAdmin):
    list_display = [
        "tree_name",
        "user",
        "account",
        "status",
        "outcome",
        "ticket_number",
        "target_label",
        "started_at",
        "completed_at",
        "exported",
    ]
    list_filter = ["status", "outcome", "tree_type", "exported", "account"]
    list_select_related = ["user", "account"]
    search_fields = ["tree_name", "ticket_number", "client_name", "target_label", "user__email"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["tree", "user", "account", "batch"]
    readonly_fields = [
        "id",
        "path_pretty",
        "step_state_pretty",
        "custom_steps_pretty",
        "variables_pretty",
        "current_node_id",
        "created_at",
        "updated_at",
    ]
    exclude = ["structure_snapshot", "path", "step_state", "custom_steps", "variables"]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        # An admin correction shows on the batch status pages like any other change
        # (the admin saves in a transaction, so the revision moves with the row).
        for batch_id in {obj.batch_id, form.initial.get("batch")}:
            services.bump_batch_revision(batch_id)

    @admin.display(description="Path")
    def path_pretty(self, obj: FlowSession) -> str:
        return pretty_json(obj.path)

    @admin.display(description="Step state")
    def step_state_pretty(self, obj: FlowSession) -> str:
        return pretty_json(obj.step_state)

    @admin.display(description="Custom steps")
    def custom_steps_pretty(self, obj: FlowSession) -> str:
        return pretty_json(obj.custom_steps)

    @admin.display(description="Variables")
    def variables_pretty(self, obj: FlowSession) -> str:
        return pretty_json(obj.variables)


@admin.register(StepFeedback)
class StepFeedbackAdmin(admin.ModelAdmin):
    list_display = ["session", "user", "node_id", "helpful", "created_at"]
    list_filter = ["helpful"]
    list_select_related = ["session", "user"]
    search_fields = ["node_id", "user__email", "session__tree_name"]
    autocomplete_fields = ["session", "user"]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["tree", "account", "created_by", "target_list", "ticket_number", "created_at"]
    list_filter = ["account"]
    list_select_related = ["tree", "account", "created_by", "target_list"]
    search_fields = ["tree__name", "ticket_number"]
    autocomplete_fields = ["tree", "account", "created_by", "target_list"]


@admin.register(TargetList)
class TargetListAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "target_count", "created_by", "updated_at"]
    list_filter = ["account"]
    list_select_related = ["account", "created_by"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["account", "created_by"]

    @admin.display(description="Targets")
    def target_count(self, obj: TargetList) -> int:
        return len(obj.targets or [])


@admin.register(SessionEvent)
class SessionEventAdmin(admin.ModelAdmin):
    """The log is written by the session services only: read it here, never change it."""

    list_display = ["at", "kind", "node_id", "session", "user", "tree"]
    list_filter = ["kind"]
    list_select_related = ["session", "user", "tree"]
    search_fields = ["node_id", "user__email", "session__tree_name"]
    date_hierarchy = "at"
    readonly_fields = ["session", "tree", "user", "kind", "node_id", "at", "elapsed_s", "payload"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
