from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flows import services
from flows.models import Tree, TreeType


class ForkInfoSerializer(serializers.Serializer):
    """Where a fork came from: null for originals; the parent's id and name are null once the
    parent is deleted."""

    parent_tree_id = serializers.UUIDField(allow_null=True)
    parent_tree_name = serializers.CharField(allow_null=True)
    fork_depth = serializers.IntegerField()
    fork_reason = serializers.CharField()
    has_parent_updates = serializers.BooleanField()


class ForkSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.FORK_TEXT_LIMIT)
    fork_reason = serializers.CharField(
        max_length=services.FORK_TEXT_LIMIT, required=False, allow_blank=True, default=""
    )


class TagNamesField(serializers.ListField):
    """Tags as a list of names; read from the prefetched relation."""

    child = serializers.CharField(max_length=50)

    def to_representation(self, data: Any) -> list[str]:
        return [tag.name for tag in data.all()]


class TreeListSerializer(serializers.ModelSerializer):
    """A flow without its structure: what lists and cards need."""

    category = serializers.CharField(
        source="category.name", allow_blank=True, required=False, default=""
    )
    category_slug = serializers.CharField(source="category.slug", read_only=True, default=None)
    tags = TagNamesField(required=False, max_length=20)
    author = serializers.EmailField(source="author.email", read_only=True, default=None)
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    is_fork = serializers.BooleanField(read_only=True)
    fork_info = serializers.SerializerMethodField()

    class Meta:
        model = Tree
        fields = [
            "id",
            "name",
            "description",
            "tree_type",
            "status",
            "category",
            "category_slug",
            "tags",
            "account",
            "author",
            "is_public",
            "is_default",
            "is_active",
            "usage_count",
            "is_fork",
            "parent_tree",
            "root_tree",
            "fork_depth",
            "fork_reason",
            "parent_updated_at",
            "fork_info",
            "created_at",
            "updated_at",
            "published_at",
        ]
        read_only_fields = [
            "status",
            "is_default",
            "is_active",
            "usage_count",
            "parent_tree",
            "root_tree",
            "fork_depth",
            "fork_reason",
            "parent_updated_at",
            "created_at",
            "updated_at",
            "published_at",
        ]

    @extend_schema_field(ForkInfoSerializer(allow_null=True))
    def get_fork_info(self, tree: Tree) -> dict[str, Any] | None:
        return tree.fork_info


class TreeSerializer(TreeListSerializer):
    """A whole flow. Writes go through the flow services, which own validation."""

    tree_type = serializers.ChoiceField(choices=TreeType.choices)
    tree_structure = serializers.JSONField(required=False)
    intake_form = serializers.JSONField(required=False)
    has_unpublished_changes = serializers.BooleanField(source="has_working_copy", read_only=True)

    class Meta(TreeListSerializer.Meta):
        fields = [
            *TreeListSerializer.Meta.fields,
            "tree_structure",
            "intake_form",
            "has_unpublished_changes",
        ]

    def validate_tree_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.tree_type:
            raise serializers.ValidationError("A flow's type cannot change; create a new flow.")
        return value

    def service_fields(self, validated: dict[str, Any]) -> dict[str, Any]:
        fields = dict(validated)
        if "category" in fields:
            fields["category"] = fields["category"].get("name") or None
        fields.pop("tree_type", None)
        return fields

    def create(self, validated_data: dict[str, Any]) -> Tree:
        return services.tree_create(
            user=self.context["request"].user,
            tree_type=validated_data["tree_type"],
            **self.service_fields(validated_data),
        )

    def update(self, instance: Tree, validated_data: dict[str, Any]) -> Tree:
        return services.tree_update(
            tree=instance, user=self.context["request"].user, **self.service_fields(validated_data)
        )
