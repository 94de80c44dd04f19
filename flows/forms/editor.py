"""The visual editors' small forms: one per node, option, step or intake question.

Forms only parse input; the services in `flows/editor.py` decide, and their errors (which name
a field) are put back next to the field with `add_service_errors`."""

from __future__ import annotations

from typing import Any

from django import forms

from flows import editor, structure

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
    editor service's arguments from `service_arguments()`; `aliases` maps the service's field
    names to this form's, so its errors land next to the right field."""

    commands_enabled = False
    aliases: dict[str, str] = {}  # read only

    def __init__(self, *args: Any, key: str = "f", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{key}-%s")
        super().__init__(*args, **kwargs)
        self.key = key

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.commands_enabled:
            data["commands"] = self.parsed_commands()
        return data

    def service_arguments(self) -> dict[str, Any]:
        """The editor service's keyword arguments besides tree, user and revision."""
        return self.changes()

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


class NodeForm(EditorForm):
    """The edit form of one node or step; `tree_node_update` takes its fields as `changes`."""

    def service_arguments(self) -> dict[str, Any]:
        return {"changes": self.changes()}


class DecisionForm(NodeForm):
    question = forms.CharField(max_length=TEXT_LIMIT)
    description = description_field()


class SolutionForm(NodeForm):
    title = forms.CharField(max_length=TEXT_LIMIT)
    description = description_field()


class SectionForm(SolutionForm):
    pass


class EndForm(NodeForm):
    title = forms.CharField(max_length=TEXT_LIMIT, required=False)
    description = description_field()


class ActionForm(NodeForm):
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


class StepForm(NodeForm):
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


FORM_FOR_TYPE: dict[str, type[NodeForm]] = {
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
) -> NodeForm | None:
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
