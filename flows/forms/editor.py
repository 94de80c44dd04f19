"""The visual editors' small forms: one per node, option, step or intake question.

Forms only parse input; the services in `flows/editor.py` decide, and their errors (which name
a field) are put back next to the field with `add_service_errors`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from flows import nodes, structure

TEXT_LIMIT = nodes.MAX_TEXT
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
            loose.append(error.message)  # messages name their node already
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
        return nodes.COMMAND_LANGUAGES

    def _posted_commands(self, *, keep_empty: bool) -> list[dict[str, str]]:
        labels = self.data.getlist(self.add_prefix("command_label"))
        languages = self.data.getlist(self.add_prefix("command_language"))
        codes = self.data.getlist(self.add_prefix("command_code"))
        rows = []
        for index, code in enumerate(codes[: MAX_COMMANDS + 1]):
            label = labels[index] if index < len(labels) else ""
            language = languages[index] if index < len(languages) else "shell"
            if code.strip() or label.strip() or keep_empty:  # a lone label is kept: an error
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
            for number, row in enumerate(rows, start=1):
                if not row["code"].strip():
                    raise forms.ValidationError(
                        f"Command {number} (“{row['label']}”) has no code: add it, "
                        "or clear the label too to remove the command."
                    )
        return cleaned


class HttpURLField(forms.CharField):
    """A link that is rendered later, so only http(s) is accepted."""

    widget = forms.URLInput(attrs={"placeholder": "https://learn.microsoft.com/…"})

    def clean(self, value: Any) -> str:
        url = super().clean(value).strip()
        if url and not nodes.is_http_url(url):
            raise forms.ValidationError("The link must start with http:// or https://.")
        return url


class DefaultChoiceField(forms.ChoiceField):
    """A choice whose default is offered once, as the blank ("Action", not "Action (default)"
    and "Action"): the default posted by name is read as the blank (stored as absent)."""

    def __init__(self, default: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default = default

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return "" if value == self.default else value


TEXTAREA_ROWS = {"description": 3}  # other long text gets two rows


def spec_field(spec: nodes.FieldSpec) -> forms.Field:
    """The form field for one field of the format table. Only required text is required here;
    links and the rest are completed before publishing, which the validator checks."""
    common: dict[str, Any] = {"label": spec.label, "help_text": spec.help_text}
    required = spec.required_at_publish and spec.kind in nodes.TEXT_KINDS
    if spec.kind == "text":
        return forms.CharField(max_length=spec.max_length, required=required, **common)
    if spec.kind == "longtext":
        widget = textarea(TEXTAREA_ROWS.get(spec.name, 2))
        return forms.CharField(
            max_length=spec.max_length, required=required, widget=widget, **common
        )
    if spec.kind == "url":
        return HttpURLField(max_length=spec.max_length, required=False, **common)
    if spec.kind == "minutes":
        return forms.IntegerField(
            min_value=0, max_value=nodes.MAX_MINUTES, required=False, **common
        )
    if spec.kind == "choice" and spec.default:
        return DefaultChoiceField(
            spec.default, choices=spec.form_choices(), required=False, **common
        )
    if spec.kind in ("choice", "target"):  # a target's choices are the flow's nodes
        return forms.ChoiceField(choices=spec.form_choices(), required=False, **common)
    raise ValueError(f"No form field for {spec.kind} fields.")


class NodeForm(EditorForm):
    """The edit form of one node or step; `tree_node_update` takes its fields as `changes`.
    One subclass per node type is built from the format table (`FORM_FOR_TYPE`)."""

    node_type: nodes.NodeType

    def __init__(
        self,
        *args: Any,
        targets: Sequence[tuple[str, str]] = (),
        staff: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for spec in self.node_type.fields:
            if spec.kind == "target" and spec.name in self.fields:
                self.fields[spec.name].choices = [("", spec.blank_label), *targets]
        # Only staff share steps with every team; a node already public may stay so.
        name = nodes.LIBRARY_VISIBILITY.name
        visibility = self.fields.get(name)
        if visibility is not None and not staff and self.initial.get(name) != nodes.PUBLIC:
            visibility.choices = [c for c in visibility.choices if c[0] != nodes.PUBLIC]

    def service_arguments(self) -> dict[str, Any]:
        return {"changes": self.changes()}

    def has_more_options(self) -> bool:
        """Open "More options" when something is set there (or wrong there): every field
        after the heading and the description."""
        more = [name for name in self.fields if name not in ("title", "question", "description")]
        source = self.data if self.is_bound else self.initial
        return any(source.get(name) not in (None, "") for name in more) or any(
            name in self.errors for name in more
        )


def _node_form_class(kind: nodes.NodeType) -> type[NodeForm]:
    fields = {
        spec.name: spec_field(spec)
        for spec in kind.fields
        if spec.editable and spec.kind != "commands"  # commands are repeated rows
    }
    attrs = {**fields, "node_type": kind, "commands_enabled": "commands" in kind.editable}
    name = "".join(part.capitalize() for part in kind.name.split("_")) + "Form"
    return type(name, (NodeForm,), attrs)


FORM_FOR_TYPE: dict[str, type[NodeForm]] = {
    kind.name: _node_form_class(kind) for kind in nodes.NODE_TYPE_TABLE
}


def node_form(
    node: dict[str, Any],
    *,
    key: str,
    targets: list[tuple[str, str]],
    data: Any = None,
    staff: bool = False,
    prefix: str | None = None,
) -> NodeForm | None:
    """The edit form of one node, filled from the node (or from posted data); `prefix` keeps
    several on one page apart (a pull's conflicts)."""
    kind = nodes.node_type(node.get("type"))
    if kind is None:
        return None
    form_class = FORM_FOR_TYPE[kind.name]
    initial = {name: node.get(name) for name in form_class.base_fields}
    initial["commands"] = node.get("commands")
    return form_class(data, key=key, initial=initial, targets=targets, staff=staff, prefix=prefix)


class OptionForm(EditorForm):
    label = forms.CharField(max_length=nodes.MAX_LABEL)
    next_node_id = forms.ChoiceField(label="Leads to", required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_node_id"].choices = [("", "— choose where it leads —"), *targets]


class AddNodeForm(EditorForm):
    """Add a node under a decision (as a child, optionally an option's target) or after an
    action (as its next node).

    Nothing typed is dropped: a label typed while "Reached by" is left at "nothing yet" adds
    that new option; a label beside an existing option is an error (which one was meant?).
    "Reached by" starts at the first option that leads nowhere, if there is one."""

    node_type = forms.ChoiceField(
        label="Add", choices=nodes.type_choices(("action", "decision", "solution"))
    )
    text = forms.CharField(label="Title or question", max_length=TEXT_LIMIT)
    link = forms.ChoiceField(label="Reached by", required=False)
    option_label = forms.CharField(
        label="New option's label",
        required=False,
        max_length=nodes.MAX_LABEL,
        help_text="Typing a label adds an option that leads to the new node.",
    )

    aliases = {"label": "option_label", "title": "text", "question": "text"}

    def __init__(self, *args: Any, options: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.under_decision = options is not None
        choices = [("new", "a new option (label below)"), ("", "nothing yet (link it later)")]
        self.option_names: dict[str, str] = {}
        for index, option in enumerate(options or []):
            option = option if isinstance(option, dict) else {}
            name = str(option.get("label") or index + 1)
            self.option_names[str(index)] = name
            choices.insert(-1, (str(index), f"option “{name}”"))
            if not option.get("next_node_id") and "link" not in self.initial:
                self.initial["link"] = str(index)  # the option still leading nowhere
        self.fields["link"].choices = choices
        if not self.under_decision:
            del self.fields["link"], self.fields["option_label"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.under_decision:
            return cleaned
        link, label = cleaned.get("link", ""), cleaned.get("option_label", "").strip()
        if link == "" and label:
            cleaned["link"] = "new"  # the typed label says where the node hangs
        elif link == "new" and not label:
            self.add_error("option_label", "Name the new option, e.g. “No”.")
        elif link in self.option_names and label:
            self.add_error(
                "option_label",
                f"“Reached by” is the option “{self.option_names[link]}”: clear this label, "
                "or choose “a new option” there to add one.",
            )
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
        label="Add", choices=nodes.type_choices(("procedure_step", "section_header"))
    )
    title = forms.CharField(max_length=TEXT_LIMIT)


_INTAKE = nodes.INTAKE_FIELDS_BY_NAME


def _intake_kwargs(name: str) -> dict[str, Any]:
    spec = _INTAKE[name]
    return {"label": spec.label, "help_text": spec.help_text, "max_length": spec.max_length}


class IntakeFieldForm(EditorForm):
    name = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]+$",
        error_messages={"invalid": "Use letters, digits, '_' and '-' only."},
        **_intake_kwargs("name"),
    )
    label = forms.CharField(**_intake_kwargs("label"))
    field_type = forms.ChoiceField(
        label=_INTAKE["type"].label,
        choices=nodes.intake_type_choices(("text", "textarea", "number", "select")),
    )
    required = forms.BooleanField(required=False, label=_INTAKE["required"].label)
    options = forms.CharField(required=False, widget=textarea(3), **_intake_kwargs("options"))

    aliases = {"type": "field_type"}

    @classmethod
    def for_field(
        cls, field: Any, *, key: str, data: Any = None, prefix: str | None = None
    ) -> IntakeFieldForm:
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
        return cls(data, key=key, initial=initial, prefix=prefix)

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "label": data["label"],
            "field_type": data["field_type"],
            "required": data["required"],
            "options": data["options"].splitlines(),
        }


class AttachForm(EditorForm):
    """Repair: connect a node nothing leads to, from a question (a new answer) or an action."""

    from_id = forms.ChoiceField(label="Reached from")
    label = forms.CharField(
        label="New answer's label",
        required=False,
        max_length=nodes.MAX_LABEL,
        help_text="When it is reached from a question, e.g. “No”.",
    )

    def __init__(
        self, *args: Any, sources: Sequence[tuple[str, str]], decisions: set[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_id"].choices = [("", "— choose a question or action —"), *sources]
        self.decisions = decisions

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("from_id") in self.decisions and not cleaned.get("label", "").strip():
            self.add_error("label", "Name the new answer, e.g. “No”.")
        return cleaned
