from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from flows import structure
from flows.models import Category, Tag, Tree, TreeStatus
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
    class Meta:
        model = Tree
        exclude: list[str] = []  # every field; the admin's fieldsets choose what shows

    def clean(self) -> dict:
        cleaned = super().clean()
        tree_type = cleaned.get("tree_type")
        if tree_type and cleaned.get("status") == TreeStatus.PUBLISHED:
            errors = structure.validate_structure(tree_type, cleaned.get("tree_structure"))
            errors += structure.validate_intake_form(cleaned.get("intake_form"))
            if errors:
                raise forms.ValidationError([str(e) for e in errors[:50]])
        return cleaned


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
        "revision",
    ]
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
        ("Content", {"fields": ("tree_structure", "structure_pretty", "intake_form")}),
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
