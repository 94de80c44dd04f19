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
    category_slug = serializers.CharField(
        source="category.slug", read_only=True, default=None, allow_null=True
    )
    tags = TagNamesField(required=False, max_length=20)
    author = serializers.EmailField(
        source="author.email", read_only=True, default=None, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
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


class WorkingCopySerializer(serializers.Serializer):
    """A published flow's unpublished edits; `POST /api/flows/{id}/publish/` makes them live."""

    tree_structure = serializers.JSONField()
    intake_form = serializers.JSONField()


REVISION_HELP = (
    "The flow's revision your change is based on (as last read). Required when a write "
    "changes tree_structure or intake_form: if the flow changed since, the write is refused "
    "with 409 and the current revision instead of overwriting that change."
)


class PublishSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Optional: publish only if the flow is still at this revision (else 409), so "
        "what goes live is what you last read or wrote.",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Optional change note, recorded with the new version.",
    )


class TreeSerializer(TreeListSerializer):
    """A whole flow. Writes go through the flow services, which own validation.

    `tree_structure` and `intake_form` are the live (published) content. Writing them on a
    published flow changes its working copy, shown in `working_copy`, until it is published."""

    tree_type = serializers.ChoiceField(choices=TreeType.choices)
    tree_structure = serializers.JSONField(required=False)
    intake_form = serializers.JSONField(required=False)
    revision = serializers.IntegerField(required=False, min_value=0, help_text=REVISION_HELP)
    has_unpublished_changes = serializers.BooleanField(source="has_working_copy", read_only=True)
    working_copy = serializers.SerializerMethodField()

    class Meta(TreeListSerializer.Meta):
        fields = [
            *TreeListSerializer.Meta.fields,
            "tree_structure",
            "intake_form",
            "revision",
            "has_unpublished_changes",
            "working_copy",
        ]

    @extend_schema_field(WorkingCopySerializer(allow_null=True))
    def get_working_copy(self, tree: Tree) -> dict[str, Any] | None:
        if not tree.has_working_copy:
            return None
        return {"tree_structure": tree.editing_structure, "intake_form": tree.editing_intake_form}

    def validate_tree_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.tree_type:
            raise serializers.ValidationError("A flow's type cannot change; create a new flow.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        changes_content = {"tree_structure", "intake_form"} & set(attrs)
        if self.instance is not None and changes_content and "revision" not in attrs:
            raise serializers.ValidationError(
                {
                    "revision": "Send the revision you read (GET the flow first), so that changes "
                    "made since are not overwritten."
                }
            )
        return attrs

    def service_fields(self, validated: dict[str, Any]) -> dict[str, Any]:
        fields = dict(validated)
        if "category" in fields:
            fields["category"] = fields["category"].get("name") or None
        fields.pop("tree_type", None)
        fields.pop("revision", None)
        return fields

    def create(self, validated_data: dict[str, Any]) -> Tree:
        return services.tree_create(
            user=self.context["request"].user,
            tree_type=validated_data["tree_type"],
            **self.service_fields(validated_data),
        )

    def update(self, instance: Tree, validated_data: dict[str, Any]) -> Tree:
        return services.tree_update(
            tree=instance,
            user=self.context["request"].user,
            revision=validated_data.get("revision"),
            **self.service_fields(validated_data),
        )


# --- versions, diffs, merges ----------------------------------------------------------------


class TreeVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    note = serializers.CharField(read_only=True)
    runs = serializers.IntegerField(read_only=True, help_text="Runs made on this version.")

    def get_created_by(self, version: Any) -> str | None:
        user = version.created_by
        return user.display_name if user else None


class TreeVersionDetailSerializer(TreeVersionSerializer):
    tree_structure = serializers.JSONField(read_only=True)
    intake_form = serializers.JSONField(read_only=True)


class WordSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "insert", "delete"])
    text = serializers.CharField()


class FieldChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    words = WordSerializer(many=True, required=False)


class NodeChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed", "moved", "changed"])
    heading = serializers.CharField()
    moved = serializers.BooleanField(help_text="Also moved (a changed node can be moved too).")
    fields = serializers.DictField(
        child=FieldChangeSerializer(),
        help_text="Changed fields by name, with a word-level diff; `parent` for a node that "
        "moved under another parent.",
    )


class IntakeChangeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The field's variable name, as in [VAR:key].")
    change = serializers.ChoiceField(choices=["added", "removed", "moved", "changed"])
    heading = serializers.CharField(help_text="The question (its label), else the key.")
    moved = serializers.BooleanField(help_text="Also asked in another position.")
    fields = serializers.DictField(
        child=FieldChangeSerializer(),
        help_text="Changed properties (label, type, required, options…) with a word-level "
        "diff; options are compared one per line.",
    )


class NameChangeSerializer(serializers.Serializer):
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class DiffSerializer(serializers.Serializer):
    name = NameChangeSerializer()
    counts = serializers.DictField(child=serializers.IntegerField())
    nodes = NodeChangeSerializer(many=True)
    intake = IntakeChangeSerializer(
        many=True, help_text="Intake-form fields that changed, matched by their name."
    )


class RestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    revision = serializers.IntegerField(required=False, min_value=0)


class CompareSerializer(serializers.Serializer):
    three_way = serializers.BooleanField(
        help_text="False for forks made before versions: `fork` is then the parent as it is "
        "now against the fork, and `parent` is null."
    )
    base_version = serializers.IntegerField(allow_null=True)
    parent = DiffSerializer(allow_null=True, help_text="The parent's changes since the fork.")
    fork = DiffSerializer(help_text="The fork's own changes since the fork.")


class EditResolutionSerializer(serializers.Serializer):
    edit = serializers.DictField(
        help_text="The merged content you wrote. For a node: its fields as in the editor "
        "(`title`, `description`, `commands`…; an absent one is emptied; `id`, `type` and "
        "fields the editor does not change, such as a decision's `options`, stay as in the "
        "fork's version). For an intake field: `label`, `type`, `required`, `options`."
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["theirs", "mine"]},
            {
                "type": "object",
                "properties": {"edit": {"type": "object", "additionalProperties": True}},
                "required": ["edit"],
                "additionalProperties": False,
            },
        ]
    }
)
class ResolutionField(serializers.Field):
    """`theirs`, `mine`, or `{"edit": {…}}`."""

    default_error_messages = {
        # Doubled braces: DRF formats the message.
        "invalid": "Use 'theirs', 'mine' or {{\"edit\": {{…the merged fields…}}}}.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if data in ("theirs", "mine"):
            return data
        if isinstance(data, dict) and set(data) == {"edit"} and isinstance(data["edit"], dict):
            return {"edit": data["edit"]}
        self.fail("invalid")
        return None

    def to_representation(self, value: Any) -> Any:
        return value


class ResolutionsSerializer(serializers.Serializer):
    resolutions = serializers.DictField(
        child=ResolutionField(),
        required=False,
        help_text="Conflict id (a node id, or `intake:<name>` for an intake field) → "
        "`theirs` (the parent's), `mine` (the fork's) or `{\"edit\": {…}}` (content you "
        "merged yourself, checked like an edit in the editor; a problem answers 400 with "
        "`resolutions: {id: {field: [message]}}` and nothing is written).",
    )
    revision = serializers.IntegerField(required=False, min_value=0)


class ConflictSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="A node id, or `intake:<name>` for an intake field.")
    scope = serializers.ChoiceField(choices=["node", "intake"])
    kind = serializers.ChoiceField(choices=["both_changed", "deleted_in_parent", "deleted_in_fork"])
    heading = serializers.CharField()
    theirs = serializers.JSONField(allow_null=True)
    mine = serializers.JSONField(allow_null=True)
    resolution = serializers.ChoiceField(choices=["theirs", "mine", "edit"], allow_null=True)
    edited = serializers.JSONField(
        allow_null=True, help_text="The checked content used for an `edit` resolution."
    )


class PullResultSerializer(serializers.Serializer):
    written = serializers.BooleanField(
        help_text="True when the merge went into the working copy (every conflict resolved)."
    )
    three_way = serializers.BooleanField()
    tree_structure = serializers.JSONField(help_text="The merged working copy.")
    intake_form = serializers.JSONField(help_text="The merged intake form.")
    applied = serializers.ListField(child=serializers.CharField())
    applied_intake = serializers.ListField(
        child=serializers.CharField(), help_text="Names of intake fields the pull changed."
    )
    conflicts = ConflictSerializer(many=True)
    revision = serializers.IntegerField()
