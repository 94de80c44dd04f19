from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from flows.models import Tree
from sessions import tidy
from sessions.exports import FORMATS
from sessions.models import Outcome, TargetList
from sessions.services.batches import ROUND_ROBIN, account_engineers, last_batch_values
from sessions.services.targets import targets_parse

INTAKE_PREFIX = "var_"
BY_HAND = "by_hand"
MAX_HAND_ROWS = 200  # beyond that, round-robin or the API's {label: email}
EXPORT_LABELS = {"psa": "PSA ticket", "text": "Text", "markdown": "Markdown", "html": "HTML"}


class IntakeFieldsMixin:
    """Adds one form field per entry of the flow's intake form (names prefixed `var_`)."""

    def add_intake_fields(self, tree: Tree) -> None:
        """The flow's ticket field is the form's own ticket number: asked once."""
        ticket = tidy.ticket_field(tree.intake_form)
        for spec in tree.intake_form or []:
            if spec["name"] == ticket and "ticket_number" in self.fields:
                self.fields["ticket_number"].required = bool(spec.get("required"))
                self.fields["ticket_number"].label = tidy.label_without_hint(
                    spec.get("label") or "Ticket number"
                )
                continue
            self.fields[INTAKE_PREFIX + spec["name"]] = intake_field(spec)

    def intake_answers(self) -> dict[str, str]:
        return {
            name[len(INTAKE_PREFIX) :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(INTAKE_PREFIX)
        }

    def add_service_errors(self, invalid: ValidationError) -> None:
        """Put each service error next to its field (intake answers, targets, …)."""
        aliases = {"targets": "targets_text"}
        for name, errors in invalid.message_dict.items():
            candidates = [name, INTAKE_PREFIX + name, aliases.get(name, "")]
            field = next((c for c in candidates if c in self.fields), None)
            for error in errors:
                self.add_error(field, error)

    @property
    def intake_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(INTAKE_PREFIX)]


class StartForm(IntakeFieldsMixin, forms.Form):
    """Ticket details plus the flow's intake form, built from its field list."""

    ticket_number = forms.CharField(max_length=100, required=False, label="Ticket number")
    client_name = forms.CharField(max_length=200, required=False, label="Client")

    def __init__(self, *args: Any, tree: Tree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tree = tree
        self.add_intake_fields(tree)


class BatchLaunchForm(IntakeFieldsMixin, forms.Form):
    """Run a maintenance flow: a saved target list or targets typed one per line."""

    target_list = forms.ModelChoiceField(
        queryset=TargetList.objects.none(), required=False, empty_label="— type targets below —"
    )
    targets_text = forms.CharField(
        required=False,
        label="Targets",
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "RDS-01\nRDS-02\nRDS-03"}),
        help_text="One per line. Leave empty to use the saved list.",
    )
    ticket_number = forms.CharField(max_length=100, required=False, label="Ticket number")

    canary = forms.IntegerField(
        min_value=0,
        initial=0,
        required=False,
        label="Canary targets",
        help_text="The first N targets go first; the rest wait until they are resolved.",
    )
    assign = forms.ChoiceField(
        choices=[
            ("", "Nobody (engineers pick targets)"),
            (ROUND_ROBIN, "Round-robin over the team's engineers"),
            (BY_HAND, "By hand, per target"),
        ],
        required=False,
        label="Assign targets",
    )

    def __init__(self, *args: Any, tree: Tree, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["target_list"].queryset = TargetList.objects.for_user(user)
        self.add_intake_fields(tree)
        if not self.is_bound:
            # Start from this team's last batch of the flow: monthly runs retype nothing.
            for name, value in last_batch_values(tree, user).items():
                if INTAKE_PREFIX + name in self.fields:
                    self.fields[INTAKE_PREFIX + name].initial = value

    def targets(self) -> list[dict[str, str]] | None:
        """Typed targets win; None means "use the chosen list"."""
        text = self.cleaned_data.get("targets_text", "")
        if text.strip() or not self.cleaned_data.get("target_list"):
            return targets_parse(text)
        return None

    def assignment(self) -> str | dict[str, str] | None:
        """What batch_launch's `assign` takes: "round_robin", {label: email} or None."""
        chosen = self.cleaned_data.get("assign") or None
        if chosen != BY_HAND:
            return chosen
        return {label: email for label, email in self.hand_picks() if email} or None

    # --- "By hand, per target": one select of the team's engineers per target line ---------

    def hand_picks(self) -> list[tuple[str, str]]:
        """(target label, chosen email) as posted by the per-target selects."""
        labels = self.data.getlist("assign_label") if hasattr(self.data, "getlist") else []
        emails = self.data.getlist("assign_to") if hasattr(self.data, "getlist") else []
        return list(zip(labels, emails, strict=False))

    def hand_labels(self) -> list[str]:
        """The target labels the form names now: typed lines, else the chosen saved list."""
        text = str(self.data.get("targets_text") or "")
        if text.strip():
            return [t["label"] for t in targets_parse(text)]
        chosen = str(self.data.get("target_list") or "")
        if chosen.isdigit():
            saved = self.fields["target_list"].queryset.filter(pk=int(chosen)).first()
            if saved is not None:
                return [t["label"] for t in saved.targets]
        return []

    def hand_rows(self) -> dict[str, Any]:
        """The per-target selects, keeping what was already picked for a label."""
        if self.data.get("assign") != BY_HAND:
            return {"shown": False}
        picked = dict(self.hand_picks())
        labels = list(dict.fromkeys(self.hand_labels()))
        return {
            "shown": True,
            "rows": [(label, picked.get(label, "")) for label in labels[:MAX_HAND_ROWS]],
            "more": max(0, len(labels) - MAX_HAND_ROWS),
            "engineers": account_engineers(self.user.account_id),
        }


class TargetListForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    targets = forms.CharField(
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text="One target per line; notes after a bar: RDS-01 | Session host, rack 3",
    )
    default_variables = forms.CharField(
        required=False,
        max_length=20_000,
        label="Default intake values",
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        help_text="One per line, field name = value: a batch on this list starts with them.",
    )

    def __init__(self, *args: Any, instance: TargetList | None = None, **kwargs: Any) -> None:
        if instance is not None and not (args and args[0]):
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "targets": "\n".join(
                    f"{t['label']} | {t['notes']}" if t.get("notes") else t["label"]
                    for t in instance.targets
                ),
                "default_variables": "\n".join(
                    f"{k} = {v}" for k, v in (instance.default_variables or {}).items()
                ),
            }
        super().__init__(*args, **kwargs)

    def clean_targets(self) -> list[dict[str, str]]:
        return targets_parse(self.cleaned_data["targets"])

    def clean_default_variables(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for line in self.cleaned_data["default_variables"].splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise ValidationError(f"“{line.strip()[:40]}” is not “field name = value”.")
            values[name.strip()] = value.strip()
        return values


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
    small_select = forms.Select(attrs={"class": "form-select form-select-sm"})
    # PSA first: it is what Copy for Ticket copies, so the preview starts there.
    format = forms.ChoiceField(
        choices=[(key, EXPORT_LABELS[key]) for key in FORMATS], required=False, widget=small_select
    )
    timestamps = forms.TypedChoiceField(
        choices=[("1", "With times"), ("0", "Without times")],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=True,
        widget=small_select,
    )
    cut_off = forms.IntegerField(min_value=1, max_value=10_000, required=False, label="Up to step")
    # Empty: the flow type's default (on for procedural and maintenance runs).
    include_commands = forms.TypedChoiceField(
        choices=[("", "Commands: default"), ("1", "With commands"), ("0", "Without commands")],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=None,
        widget=small_select,
    )
    redact = forms.TypedChoiceField(
        choices=[("1", "Secrets redacted"), ("0", "Secrets as they are")],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=True,
        widget=small_select,
    )
    download = forms.BooleanField(required=False)

    def __init__(self, *args: Any, always_redact: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.always_redact = always_redact
        if always_redact:  # the team's setting: nothing to choose
            del self.fields["redact"]

    def export_kwargs(self) -> dict[str, Any]:
        data = getattr(self, "cleaned_data", {})
        return {
            "fmt": data.get("format") or "psa",
            "timestamps": data.get("timestamps", True),
            "cut_off": data.get("cut_off"),
            "include_commands": data.get("include_commands"),
        }

    @property
    def redacting(self) -> bool:
        return self.always_redact or getattr(self, "cleaned_data", {}).get("redact", True)
