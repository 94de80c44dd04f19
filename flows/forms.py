"""Forms of the flow pages: the JSON form (create, and "Advanced: edit JSON"), the visual
editors' small forms (one per node, option, step or intake question), fork and import.

Forms only parse input; the services in `flows/services.py` and `flows/editor.py` decide, and
their errors (which name a field) are put back next to the field with `add_service_errors`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import User
from flows import editor, services, structure
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

    def __init__(self, *args: Any, user: User, instance: Tree | None = None, **kwargs: Any):
        if instance is not None and not args[0]:
            kwargs["initial"] = {
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
        """Details change at once; the structure goes where the visual editor's changes go
        (a published flow's working copy), so publishing stays the one way to go live."""
        assert self.instance is not None
        fields = self.fields_for_service()
        content = {
            key: fields.pop(key) for key in ("tree_structure", "intake_form") if key in fields
        }
        try:
            with transaction.atomic():
                tree = services.tree_update(tree=self.instance, user=self.user, **fields)
                if content:
                    tree = editor.tree_structure_replace(
                        tree=tree,
                        user=self.user,
                        revision=None,
                        tree_structure=content.get("tree_structure", tree.editing_structure),
                        intake_form=content.get("intake_form", tree.editing_intake_form),
                    ).tree
                return tree
        except (structure.StructureInvalid, services.PublishRefused) as invalid:
            self.add_structure_errors(invalid)  # type: ignore[arg-type]
        return None


# --- the visual editors ---------------------------------------------------------------------

TEXT_LIMIT = structure.MAX_TEXT
LANGUAGES = ("shell", "powershell", "cmd", "bash", "sql", "text")
MAX_COMMANDS = 20


def textarea(rows: int = 2, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def add_service_errors(
    form: forms.Form, invalid: structure.StructureInvalid, aliases: dict[str, str] | None = None
) -> list[str]:
    """Put each error next to its field; return the messages that belong to no field."""
    loose = []
    for error in invalid.errors:
        field = (error.field or "").split("[")[0].split(".")[0]
        field = (aliases or {}).get(field, field)
        if field in form.fields:
            form.add_error(field, error.message)
        else:
            loose.append(str(error))
    return loose


class EditorForm(forms.Form):
    """Base of the editor's small forms: unique element ids per form on one page, and the
    service's arguments from `changes()`."""

    commands_enabled = False

    def __init__(self, *args: Any, key: str = "f", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{key}-%s")
        super().__init__(*args, **kwargs)
        self.key = key

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.commands_enabled:
            data["commands"] = self.parsed_commands()
        return data

    # Commands are repeated rows (label, language, code), not one Django field.
    def command_rows(self) -> list[dict[str, str]]:
        """The rows to show: what was posted (on errors) or saved, plus one empty row."""
        if self.is_bound:
            rows = self._posted_commands(keep_empty=False)
        else:
            rows = structure.normalise_commands(self.initial.get("commands"))
        return [*rows, {"label": "", "language": "shell", "code": ""}]

    def language_choices(self) -> tuple[str, ...]:
        return LANGUAGES

    def _posted_commands(self, *, keep_empty: bool) -> list[dict[str, str]]:
        labels = self.data.getlist("command_label")
        languages = self.data.getlist("command_language")
        codes = self.data.getlist("command_code")
        rows = []
        for index, code in enumerate(codes[: MAX_COMMANDS + 1]):
            label = labels[index] if index < len(labels) else ""
            language = languages[index] if index < len(languages) else "shell"
            if code.strip() or keep_empty:
                rows.append({"label": label.strip(), "language": language.strip(), "code": code})
        return rows

    def parsed_commands(self) -> list[dict[str, str]]:
        return self._posted_commands(keep_empty=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.commands_enabled:
            rows = self.parsed_commands()
            if len(rows) > MAX_COMMANDS:
                raise forms.ValidationError(f"A node has at most {MAX_COMMANDS} commands.")
            if any(len(row["code"]) > TEXT_LIMIT for row in rows):
                raise forms.ValidationError(f"A command is longer than {TEXT_LIMIT:,} characters.")
        return cleaned


def description_field() -> forms.CharField:
    return forms.CharField(required=False, max_length=TEXT_LIMIT, widget=textarea(3))


class DecisionForm(EditorForm):
    question = forms.CharField(max_length=TEXT_LIMIT)
    description = description_field()


class SolutionForm(EditorForm):
    title = forms.CharField(max_length=TEXT_LIMIT)
    description = description_field()


class SectionForm(SolutionForm):
    pass


class EndForm(EditorForm):
    title = forms.CharField(max_length=TEXT_LIMIT, required=False)
    description = description_field()


class ActionForm(EditorForm):
    commands_enabled = True
    title = forms.CharField(max_length=TEXT_LIMIT)
    description = description_field()
    next_node_id = forms.ChoiceField(label="Then go to", required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_node_id"].choices = [("", "— choose the next node —"), *targets]


LIBRARY_VISIBILITY_CHOICES = [
    ("", "Inherit from flow"),
    ("team", "Team only"),
    ("public", "Public"),
]
CONTENT_TYPE_CHOICES = [
    ("", "Action (default)"),
    ("informational", "Informational"),
    ("verification", "Verification"),
    ("warning", "Warning"),
    ("action", "Action"),
]


class StepForm(EditorForm):
    """A procedure step: every field of SPEC §3.1; all but the first three sit under
    "More options"."""

    commands_enabled = True
    title = forms.CharField(max_length=TEXT_LIMIT)
    description = forms.CharField(required=False, max_length=TEXT_LIMIT, widget=textarea(3))
    content_type = forms.ChoiceField(
        label="Kind of step", choices=CONTENT_TYPE_CHOICES, required=False
    )
    estimated_minutes = forms.IntegerField(
        label="Estimated minutes", min_value=0, max_value=10_000, required=False
    )
    expected_outcome = forms.CharField(
        label="Expected outcome", required=False, max_length=TEXT_LIMIT, widget=textarea()
    )
    verification_prompt = forms.CharField(
        label="Verification prompt", required=False, max_length=TEXT_LIMIT, widget=textarea()
    )
    warning_text = forms.CharField(
        label="Warning", required=False, max_length=TEXT_LIMIT, widget=textarea()
    )
    reference_url = forms.CharField(
        label="Reference link",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://learn.microsoft.com/…"}),
    )
    library_visibility = forms.ChoiceField(
        label="Library visibility",
        choices=LIBRARY_VISIBILITY_CHOICES,
        required=False,
        help_text="Who finds this step in the step library once the flow is published.",
    )

    def clean_reference_url(self) -> str:
        url = self.cleaned_data["reference_url"].strip()
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("The link must start with http:// or https://.")
        return url

    def has_more_options(self) -> bool:
        """Open "More options" when something is set there (or wrong there)."""
        more = (
            "content_type",
            "estimated_minutes",
            "expected_outcome",
            "verification_prompt",
            "warning_text",
            "reference_url",
            "library_visibility",
        )
        source = self.data if self.is_bound else self.initial
        return any(source.get(name) not in (None, "") for name in more) or any(
            name in self.errors for name in more
        )


FORM_FOR_TYPE: dict[str, type[EditorForm]] = {
    "decision": DecisionForm,
    "action": ActionForm,
    "solution": SolutionForm,
    "section_header": SectionForm,
    "procedure_step": StepForm,
    "procedure_end": EndForm,
}


def node_form(
    node: dict[str, Any],
    *,
    key: str,
    targets: list[tuple[str, str]],
    data: Any = None,
) -> EditorForm | None:
    """The edit form of one node, filled from the node (or from posted data)."""
    form_class = FORM_FOR_TYPE.get(node.get("type"))  # type: ignore[arg-type]
    if form_class is None:
        return None
    extra = {"targets": targets} if form_class is ActionForm else {}
    initial = {name: node.get(name) for name in form_class.base_fields}
    initial["commands"] = node.get("commands")
    return form_class(data, key=key, initial=initial, **extra)


class OptionForm(EditorForm):
    label = forms.CharField(max_length=editor.MAX_LABEL)
    next_node_id = forms.ChoiceField(label="Leads to", required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_node_id"].choices = [("", "— choose where it leads —"), *targets]


NODE_TYPE_CHOICES = [("action", "Action"), ("decision", "Decision"), ("solution", "Solution")]


class AddNodeForm(EditorForm):
    """Add a node under a decision (as a child, optionally an option's target) or after an
    action (as its next node)."""

    node_type = forms.ChoiceField(label="Add", choices=NODE_TYPE_CHOICES)
    text = forms.CharField(label="Title or question", max_length=TEXT_LIMIT)
    link = forms.ChoiceField(label="Reached by", required=False)
    option_label = forms.CharField(
        label="New option's label", required=False, max_length=editor.MAX_LABEL
    )

    aliases = {"label": "option_label", "title": "text", "question": "text"}

    def __init__(self, *args: Any, options: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.under_decision = options is not None
        choices = [("new", "a new option (label below)"), ("", "nothing yet (link it later)")]
        for index, option in enumerate(options or []):
            label = option.get("label") if isinstance(option, dict) else None
            choices.insert(-1, (str(index), f"option “{label or index + 1}”"))
        self.fields["link"].choices = choices
        if not self.under_decision:
            del self.fields["link"], self.fields["option_label"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("link") == "new" and not cleaned.get("option_label", "").strip():
            self.add_error("option_label", "Name the new option, e.g. “No”.")
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments = {"node_type": data["node_type"], "text": data["text"]}
        link = data.get("link", "")
        if link == "new":
            arguments["option_label"] = data["option_label"]
        elif link.isdigit():
            arguments["option_index"] = int(link)
        return arguments


class AddStepForm(EditorForm):
    step_type = forms.ChoiceField(
        label="Add", choices=[("procedure_step", "Step"), ("section_header", "Section header")]
    )
    title = forms.CharField(max_length=TEXT_LIMIT)


class IntakeFieldForm(EditorForm):
    name = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]+$",
        max_length=structure.MAX_ID_LEN,
        label="Variable name",
        help_text="Used as [VAR:name] in step text.",
        error_messages={"invalid": "Use letters, digits, '_' and '-' only."},
    )
    label = forms.CharField(max_length=500, label="Question")
    field_type = forms.ChoiceField(
        label="Answer type",
        choices=[
            ("text", "Text"),
            ("textarea", "Long text"),
            ("number", "Number"),
            ("select", "Choice"),
        ],
    )
    required = forms.BooleanField(required=False)
    options = forms.CharField(
        required=False,
        widget=textarea(3),
        label="Choices",
        help_text="For a choice: one per line.",
        max_length=TEXT_LIMIT,
    )

    aliases = {"type": "field_type"}

    @classmethod
    def for_field(cls, field: Any, *, key: str, data: Any = None) -> IntakeFieldForm:
        field = field if isinstance(field, dict) else {}
        options = field.get("options")
        initial = {
            "name": field.get("name", ""),
            "label": field.get("label", ""),
            "field_type": field.get("type", "text"),
            "required": bool(field.get("required")),
            "options": "\n".join(o for o in options if isinstance(o, str))
            if isinstance(options, list)
            else "",
        }
        return cls(data, key=key, initial=initial)

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "label": data["label"],
            "field_type": data["field_type"],
            "required": data["required"],
            "options": data["options"].splitlines(),
        }


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


# --- forks and import -----------------------------------------------------------------------


class ForkForm(forms.Form):
    name = forms.CharField(
        max_length=services.FORK_TEXT_LIMIT,
        label="Name of your copy",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    fork_reason = forms.CharField(
        max_length=services.FORK_TEXT_LIMIT,
        required=False,
        label="Why fork it?",
        help_text="Optional: what you will change, e.g. “Our firewalls run SonicOS 7”.",
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Exported flow (.json)",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        help_text=f"A file made by Export, up to {structure.MAX_JSON_BYTES // 1_000_000} MB.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > structure.MAX_JSON_BYTES:
            limit = structure.MAX_JSON_BYTES // 1_000_000
            raise forms.ValidationError(
                f"The file is larger than {limit} MB; nothing was imported."
            )
        return upload.read(structure.MAX_JSON_BYTES + 1)
