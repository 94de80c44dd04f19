from __future__ import annotations

from typing import Any

from rest_framework import serializers

from steplibrary import services
from steplibrary.models import LibraryStep

CONTENT_KEYS = ("instructions", "help_text", "commands", "group_label")


class CommandSerializer(serializers.Serializer):
    label = serializers.CharField(
        max_length=services.MAX_LABEL, allow_blank=True, required=False, default=""
    )
    command = serializers.CharField(max_length=services.MAX_TEXT, trim_whitespace=False)
    command_type = serializers.CharField(
        max_length=services.MAX_COMMAND_TYPE, allow_blank=True, required=False, default="shell"
    )


class StepContentSerializer(serializers.Serializer):
    instructions = serializers.CharField(max_length=services.MAX_TEXT)
    help_text = serializers.CharField(
        max_length=services.MAX_TEXT, allow_blank=True, required=False, default=""
    )
    commands = serializers.ListField(
        child=CommandSerializer(), max_length=services.MAX_COMMANDS, required=False, default=list
    )
    group_label = serializers.CharField(
        max_length=255, allow_blank=True, required=False, default=""
    )


class ContentField(StepContentSerializer):
    """Reads the content leniently (it may have been typed into the admin)."""

    def get_attribute(self, instance: LibraryStep) -> dict[str, Any]:
        return {
            "instructions": instance.instructions,
            "help_text": instance.help_text,
            "commands": instance.commands,
            "group_label": instance.group_label,
        }


class CategoryField(serializers.CharField):
    """A category name. Synced entries show their flow's."""

    def get_attribute(self, instance: LibraryStep) -> str:
        category = instance.shown_category
        return category.name if category else ""


class TagsField(serializers.ListField):
    """Tag names. Synced entries show their flow's."""

    child = serializers.CharField(max_length=50)

    def get_attribute(self, instance: LibraryStep) -> list[str]:
        return [tag.name for tag in instance.shown_tags]


class LibraryStepSerializer(serializers.ModelSerializer):
    """A library entry. Synced entries wear their flow's category and tags; the source flow is
    named only to those who may see that flow."""

    content = ContentField()
    category = CategoryField(max_length=100, allow_blank=True, required=False)
    tags = TagsField(max_length=services.MAX_TAGS, required=False)
    created_by = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    source_tree = serializers.SerializerMethodField()
    source_tree_name = serializers.SerializerMethodField()

    class Meta:
        model = LibraryStep
        fields = [
            "id",
            "title",
            "step_type",
            "content",
            "visibility",
            "category",
            "tags",
            "created_by",
            "account",
            "usage_count",
            "helpful_yes",
            "helpful_no",
            "is_active",
            "is_flow_synced",
            "source_tree",
            "source_tree_name",
            "source_node_id",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "usage_count",
            "helpful_yes",
            "helpful_no",
            "is_active",
            "is_flow_synced",
            "source_node_id",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]

    def _source_visible(self, step: LibraryStep) -> bool:
        return step.source_visible_to(self.context["request"].user)

    def get_source_tree(self, step: LibraryStep) -> str | None:
        return str(step.source_tree_id) if self._source_visible(step) else None

    def get_source_tree_name(self, step: LibraryStep) -> str | None:
        return step.source_tree.name if self._source_visible(step) else None

    def service_fields(self, validated: dict[str, Any]) -> dict[str, Any]:
        fields = dict(validated)
        fields.update(fields.pop("content", {}))
        return fields

    def create(self, validated_data: dict[str, Any]) -> LibraryStep:
        return services.library_step_create(
            user=self.context["request"].user, **self.service_fields(validated_data)
        )

    def update(self, instance: LibraryStep, validated_data: dict[str, Any]) -> LibraryStep:
        return services.library_step_update(
            step=instance, user=self.context["request"].user, **self.service_fields(validated_data)
        )


class LibraryStepCopySerializer(LibraryStepSerializer):
    """POST /copy/: every field optional; what is given replaces the copied value."""

    content = ContentField(required=False)
