"""The JSON form (create, and "Advanced: edit JSON") and the details form of the editor page.

Forms only parse input; the services in `flows/services.py` and `flows/editor.py` decide, and
their errors (which name a field) are put back next to the field."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied

from accounts.models import User
from flows import services, structure
from flows.forms.editor import TEXT_LIMIT, textarea
from flows.models import Tree, TreeType


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class JSONTextField(forms.CharField):
    """A textarea holding JSON; parse errors (and oversize input) become field errors."""

    widget = forms.Textarea(attrs={"rows": 16, "class": "font-monospace", "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return structure.parse_json(text)
        except structure.StructureInvalid as invalid:
            raise forms.ValidationError([str(e.message) for e in invalid.errors]) from invalid


class TreeForm(forms.Form):
    name = forms.CharField(max_length=255)
    tree_type = forms.ChoiceField(choices=TreeType.choices, label="Type")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.CharField(max_length=100, required=False)
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. vpn, sonicwall"
    )
    tree_structure = JSONTextField(
        required=False,
        label="Structure (JSON)",
        help_text="Leave empty for a starter structure. Drafts may be incomplete; publishing "
        "checks everything.",
    )
    intake_form = JSONTextField(
        required=False,
        label="Intake form (JSON)",
        help_text='A list of fields, e.g. [{"name": "upn", "label": "UPN", "type": "text", '
        '"required": true}]',
    )
    # The revision the page was rendered from: a save based on an older one is refused (409).
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, instance: Tree | None = None, **kwargs: Any):
        self.conflict = False
        if instance is not None and not args[0]:
            kwargs["initial"] = {
                "revision": instance.revision,
                "name": instance.name,
                "tree_type": instance.tree_type,
                "description": instance.description,
                "category": instance.category.name if instance.category else "",
                "tags": ", ".join(t.name for t in instance.tags.all()),
                "tree_structure": pretty(instance.editing_structure),
                "intake_form": pretty(instance.editing_intake_form),
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        if instance is not None:
            # Changing the kind would orphan the structure; fork or create a new flow instead.
            self.fields["tree_type"].disabled = True
            self.fields["tree_type"].initial = instance.tree_type

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()][:20]

    def add_structure_errors(self, invalid: structure.StructureInvalid) -> None:
        for error in invalid.errors:
            field = "intake_form" if (error.field or "").startswith("intake") else "tree_structure"
            self.add_error(field, str(error))

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            "name": data["name"],
            "description": data["description"],
            "category": data["category"],
            "tags": data["tags"],
            "intake_form": data["intake_form"] or [],
        }
        if data["tree_structure"] is not None:
            fields["tree_structure"] = data["tree_structure"]
        return fields

    def save_new(self) -> Tree | None:
        fields = self.fields_for_service()
        try:
            return services.tree_create(
                user=self.user, tree_type=self.cleaned_data["tree_type"], **fields
            )
        except structure.StructureInvalid as invalid:
            self.add_structure_errors(invalid)
        except PermissionDenied as denied:
            self.add_error(None, str(denied))
        return None

    def save_existing(self) -> Tree | None:
        """One service call: details change at once; the structure goes where the visual
        editor's changes go (a published flow's working copy), so publishing stays the one way
        to go live. A page older than the flow's revision is refused, keeping the typed text."""
        assert self.instance is not None
        revision = self.cleaned_data["revision"]
        try:
            return services.tree_update(
                tree=self.instance,
                user=self.user,
                revision=self.instance.revision if revision is None else revision,
                **self.fields_for_service(),
            )
        except services.EditConflict as conflict:
            self.conflict = True
            message = f"{conflict.detail} Copy your text before you reload the page."
            self.add_error(None, message)
        except structure.StructureInvalid as invalid:
            self.add_structure_errors(invalid)
        return None


VISIBILITY_CHOICES = [("team", "Team only"), ("public", "Public: every signed-in user")]


class DetailsForm(forms.Form):
    """Name, description, category, tags and visibility; saved at once (no working copy)."""

    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, max_length=TEXT_LIMIT, widget=textarea(3))
    category = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "category-names", "autocomplete": "off"}),
    )
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. vpn, sonicwall"
    )
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES)

    def __init__(self, *args: Any, user: User, tree: Tree, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "details-%s")
        kwargs["initial"] = {
            "name": tree.name,
            "description": tree.description,
            "category": tree.category.name if tree.category else "",
            "tags": ", ".join(t.name for t in tree.tags.all()),
            "visibility": "public" if tree.is_public else "team",
        }
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            self.fields["visibility"].disabled = True
            self.fields["visibility"].help_text = "Only staff publish flows to everyone."

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()][:20]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "category": data["category"],
            "tags": data["tags"],
            "is_public": data["visibility"] == "public",
        }
