"""Repair flow content saved before the shape rules ran on every save (issue 9).

Rows whose structure or intake form (live or working copy) fails the shape check are rewritten
by `structure.repair_structure` / `structure.repair_intake_form`, so every page, export and
runner can read them; rows that pass are left exactly as they are. Reversing does nothing."""

from typing import Any

from django.db import migrations
from django.db.models import F

from flows import structure


def repaired_content(tree_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The fields of one flow that need repair, with their repaired values (pure)."""
    changes: dict[str, Any] = {}
    for field in ("tree_structure", "draft_structure"):
        value = content.get(field)
        if field == "draft_structure" and value is None:
            continue  # no working copy
        if structure.validate_structure(tree_type, value, for_publish=False):
            changes[field] = structure.repair_structure(tree_type, value)
    for field in ("intake_form", "draft_intake_form"):
        value = content.get(field)
        if field == "draft_intake_form" and value is None:
            continue
        if not isinstance(value, list) or structure.validate_intake_form(value):
            changes[field] = structure.repair_intake_form(value)
    return changes


def repair_trees(apps: Any, schema_editor: Any) -> int:
    """Repair every flow that needs it; returns how many were changed."""
    tree_model = apps.get_model("flows", "Tree")
    fields = ("tree_structure", "intake_form", "draft_structure", "draft_intake_form")
    repaired = 0
    for tree in tree_model.objects.only("pk", "tree_type", *fields).iterator(chunk_size=200):
        changes = repaired_content(tree.tree_type, {f: getattr(tree, f) for f in fields})
        if changes:
            # A new revision: an editor page opened before the repair must not write it back.
            tree_model.objects.filter(pk=tree.pk).update(**changes, revision=F("revision") + 1)
            repaired += 1
    return repaired


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0002_tree_working_copy"),
    ]

    operations = [
        migrations.RunPython(repair_trees, migrations.RunPython.noop),
    ]
