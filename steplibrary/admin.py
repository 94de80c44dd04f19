from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from resolutionflow.pages import pretty_json
from steplibrary.models import LibraryStep

SYNCED_FIELDS = ["title", "step_type", "content", "visibility", "source_tree", "source_node_id"]


@admin.register(LibraryStep)
class LibraryStepAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "step_type",
        "visibility",
        "account",
        "created_by",
        "is_flow_synced",
        "source_link",
        "is_active",
        "usage_count",
        "helpful_yes",
        "helpful_no",
        "updated_at",
    ]
    list_filter = [
        "is_flow_synced",
        "is_active",
        "step_type",
        "visibility",
        ("source_tree", admin.RelatedOnlyFieldListFilter),
        "account",
    ]
    list_select_related = ["account", "created_by", "source_tree"]
    search_fields = ["title", "search_text", "source_node_id", "source_tree__name"]
    autocomplete_fields = ["account", "created_by", "category", "source_tree"]
    filter_horizontal = ["tags"]
    readonly_fields = [
        "id",
        "content_pretty",
        "is_flow_synced",
        "last_synced_at",
        "usage_count",
        "helpful_yes",
        "helpful_no",
        "created_at",
        "updated_at",
    ]
    fieldsets = (
        (None, {"fields": ("id", "title", "step_type", "visibility", "category", "tags")}),
        ("Content", {"fields": ("content", "content_pretty")}),
        ("Ownership", {"fields": ("account", "created_by", "is_active")}),
        (
            "Sync",
            {"fields": ("is_flow_synced", "source_tree", "source_node_id", "last_synced_at")},
        ),
        (
            "Activity",
            {"fields": ("usage_count", "helpful_yes", "helpful_no", "created_at", "updated_at")},
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: LibraryStep | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_flow_synced:
            # The flow owns it: the next publish would overwrite any edit made here.
            fields += [name for name in SYNCED_FIELDS if name not in fields]
        return fields

    @admin.display(description="Source flow", ordering="source_tree__name")
    def source_link(self, obj: LibraryStep) -> str:
        if obj.source_tree is None:
            return "source flow deleted" if obj.is_flow_synced else "—"
        url = reverse("admin:flows_tree_change", args=[obj.source_tree_id])
        return format_html('<a href="{}">{}</a>', url, obj.source_tree.name)

    @admin.display(description="Content (read-only view)")
    def content_pretty(self, obj: LibraryStep) -> str:
        return pretty_json(obj.content)
