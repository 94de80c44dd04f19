from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from flows import services, structure
from flows.models import Category, Tag, Tree, TreeStatus, TreeVersion
from resolutionflow.errors import ServiceError
from resolutionflow.pages import pretty_json


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class IsForkFilter(admin.SimpleListFilter):
    title = "fork"
    parameter_name = "is_fork"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("yes", "Forks"), ("no", "Originals")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Tree]) -> QuerySet[Tree]:
        if self.value() == "yes":
            return queryset.filter(fork_depth__gt=0)
        if self.value() == "no":
            return queryset.filter(fork_depth=0)
        return queryset


class TreeAdminForm(forms.ModelForm):
    """Adding a flow: the content gets the same checks as every other write path (the draft
    shape always, everything when it is added as published). Existing flows' content is
    read-only here and changes in the editor, through the write service."""

    class Meta:
        model = Tree
        exclude: list[str] = []  # every field; the admin's fieldsets choose what shows

    def clean(self) -> dict:
        cleaned = super().clean()
        tree_type = cleaned.get("tree_type")
        if tree_type and "tree_structure" in self.fields:
            content = cleaned.get("tree_structure"), cleaned.get("intake_form") or []
            try:
                services.check_draft(
                    tree_type=tree_type, tree_structure=content[0], intake_form=content[1]
                )
            except structure.StructureInvalid as invalid:
                raise forms.ValidationError([str(e) for e in invalid.errors[:50]]) from invalid
            if cleaned.get("status") == TreeStatus.PUBLISHED:
                errors = structure.validate_structure(tree_type, content[0])
                errors += structure.validate_intake_form(content[1])
                if errors:
                    raise forms.ValidationError([str(e) for e in errors[:50]])
        return cleaned


CONTENT_FIELDS = ("tree_structure", "intake_form", "draft_structure", "draft_intake_form")


@admin.register(Tree)
class TreeAdmin(admin.ModelAdmin):
    form = TreeAdminForm
    list_display = [
        "name",
        "tree_type",
        "status",
        "account",
        "author",
        "is_public",
        "is_default",
        "is_active",
        "usage_count",
        "parent_link",
        "updated_at",
    ]
    list_filter = [
        "tree_type",
        "status",
        "is_default",
        "is_public",
        "is_active",
        IsForkFilter,
        "category",
        "account",
    ]
    list_select_related = ["account", "author", "parent_tree"]
    search_fields = ["name", "description", "default_key"]
    autocomplete_fields = ["account", "author", "category", "parent_tree", "root_tree"]
    filter_horizontal = ["tags"]
    readonly_fields = [
        "id",
        "usage_count",
        "created_at",
        "updated_at",
        "published_at",
        "structure_pretty",
        "editor_link",
        "revision",
    ]
    actions = ["publish", "unpublish", "retire", "reactivate"]
    fieldsets = (
        (
            None,
            {"fields": ("id", "name", "description", "tree_type", "status", "category", "tags")},
        ),
        (
            "Ownership and visibility",
            {
                "fields": (
                    "account",
                    "author",
                    "is_public",
                    "is_default",
                    "default_key",
                    "is_active",
                )
            },
        ),
        (
            "Content",
            {"fields": ("editor_link", "tree_structure", "structure_pretty", "intake_form")},
        ),
        (
            "Fork",
            {
                "fields": (
                    "parent_tree",
                    "root_tree",
                    "fork_depth",
                    "fork_reason",
                    "parent_updated_at",
                )
            },
        ),
        (
            "Unpublished changes (the editor's working copy of a published flow)",
            {
                "classes": ("collapse",),
                "fields": ("draft_structure", "draft_intake_form", "revision"),
            },
        ),
        ("Activity", {"fields": ("usage_count", "created_at", "updated_at", "published_at")}),
    )

    @admin.display(description="Forked from", ordering="parent_tree__name")
    def parent_link(self, obj: Tree) -> str:
        if obj.parent_tree is None:
            return "—" if not obj.fork_depth else "parent deleted"
        url = reverse("admin:flows_tree_change", args=[obj.parent_tree_id])
        return format_html('<a href="{}">{}</a>', url, obj.parent_tree.name)

    @admin.display(description="Structure (read-only view)")
    def structure_pretty(self, obj: Tree) -> str:
        return pretty_json(obj.tree_structure)

    @admin.display(description="Edit the content")
    def editor_link(self, obj: Tree) -> str:
        if obj.pk is None:
            return "Save the flow first; then edit its content in the flow editor."
        return format_html(
            '<a href="{}">Open the flow editor</a> (or <a href="{}">edit as JSON</a>): content '
            "changes go through the editor so that the revision check and a published flow's "
            "working copy apply.",
            reverse("flows:edit", args=[obj.pk]),
            reverse("flows:edit_json", args=[obj.pk]),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Tree | None = None) -> list[str]:
        """Content and status of an existing flow change only through the services: the
        editor for content, the actions below for publishing and retiring."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [*CONTENT_FIELDS, "status", "tree_type"]
        else:
            fields += ["draft_structure", "draft_intake_form"]  # a new flow has no working copy
        return fields

    def delete_model(self, request: HttpRequest, obj: Tree) -> None:
        services.tree_delete(tree=obj, user=request.user)  # recorded in the audit trail

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tree]) -> None:
        for tree in queryset:
            services.tree_delete(tree=tree, user=request.user)

    def save_model(self, request: HttpRequest, obj: Tree, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only what the form changed: a full save would write back content read at page load.
        changed = [name for name in form.changed_data if name in form.fields and name != "tags"]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])

    def _run(self, request: HttpRequest, queryset: QuerySet[Tree], verb: str, change: Any) -> None:
        done = 0
        for tree in queryset:
            try:
                change(tree)
            except ServiceError as refused:
                self.message_user(request, f"“{tree.name}”: {refused}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} flow(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Publish selected flows (validates each)")
    def publish(self, request: HttpRequest, queryset: QuerySet[Tree]) -> None:
        self._run(
            request,
            queryset,
            "published",
            lambda tree: services.tree_publish(tree=tree, user=request.user),
        )

    @admin.action(description="Unpublish selected flows (back to draft)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Tree]) -> None:
        self._run(
            request,
            queryset,
            "unpublished",
            lambda tree: services.tree_unpublish(tree=tree, user=request.user),
        )

    @admin.action(description="Retire selected flows (no new runs)")
    def retire(self, request: HttpRequest, queryset: QuerySet[Tree]) -> None:
        self._run(
            request,
            queryset,
            "retired",
            lambda tree: services.tree_set_active(tree=tree, user=request.user, active=False),
        )

    @admin.action(description="Reactivate selected flows")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Tree]) -> None:
        self._run(
            request,
            queryset,
            "reactivated",
            lambda tree: services.tree_set_active(tree=tree, user=request.user, active=True),
        )


@admin.register(TreeVersion)
class TreeVersionAdmin(admin.ModelAdmin):
    """Published versions are history: readable here, never added, changed or deleted."""

    list_display = ["tree", "number", "created_by", "created_at", "note"]
    list_select_related = ["tree", "created_by"]
    search_fields = ["tree__name", "note"]
    readonly_fields = ["tree", "number", "name", "note", "created_by", "created_at", "content"]
    exclude = ["tree_structure", "intake_form"]

    @admin.display(description="Structure and intake form")
    def content(self, obj: TreeVersion) -> str:
        return pretty_json({"tree_structure": obj.tree_structure, "intake_form": obj.intake_form})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
