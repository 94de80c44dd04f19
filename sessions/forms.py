from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from flows.models import Tree
from sessions.exports import FORMATS
from sessions.models import Outcome

INTAKE_PREFIX = "var_"


class StartForm(forms.Form):
    """Ticket details plus the flow's intake form, built from its field list."""

    ticket_number = forms.CharField(max_length=100, required=False, label="Ticket number")
    client_name = forms.CharField(max_length=200, required=False, label="Client")

    def __init__(self, *args: Any, tree: Tree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tree = tree
        for spec in tree.intake_form or []:
            self.fields[INTAKE_PREFIX + spec["name"]] = intake_field(spec)

    def intake_answers(self) -> dict[str, str]:
        return {
            name[len(INTAKE_PREFIX) :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(INTAKE_PREFIX)
        }

    def add_service_errors(self, invalid: ValidationError) -> None:
        for name, errors in invalid.message_dict.items():
            field = INTAKE_PREFIX + name if INTAKE_PREFIX + name in self.fields else None
            for error in errors:
                self.add_error(field, error)

    @property
    def intake_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(INTAKE_PREFIX)]


def intake_field(spec: dict[str, Any]) -> forms.Field:
    common = {"label": spec.get("label") or spec["name"], "required": bool(spec.get("required"))}
    kind = spec.get("type", "text")
    if kind == "select":
        choices = [("", "—")] + [(o, o) for o in spec.get("options") or []]
        return forms.ChoiceField(choices=choices, **common)
    if kind == "number":
        return forms.DecimalField(**common)
    if kind == "textarea":
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(max_length=2000, **common)


class CustomStepForm(forms.Form):
    inserted_after = forms.CharField(max_length=100, widget=forms.HiddenInput)
    title = forms.CharField(max_length=255)
    instructions = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    commands = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="Optional. Pasted as one command block.",
    )


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose an outcome…"), *Outcome.choices])
    outcome_notes = forms.CharField(
        required=False, max_length=10_000, label="Notes", widget=forms.Textarea(attrs={"rows": 3})
    )
    next_steps = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExportOptionsForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            (key, key.upper() if key in ("psa", "html") else key.capitalize()) for key in FORMATS
        ],
        required=False,
    )
    timestamps = forms.TypedChoiceField(
        choices=[("1", "With times"), ("0", "Without times")],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=True,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    cut_off = forms.IntegerField(min_value=1, max_value=10_000, required=False, label="Up to step")
    download = forms.BooleanField(required=False)

    def export_kwargs(self) -> dict[str, Any]:
        data = getattr(self, "cleaned_data", {})
        return {
            "fmt": data.get("format") or "psa",
            "timestamps": data.get("timestamps", True),
            "cut_off": data.get("cut_off"),
        }
