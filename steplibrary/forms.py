"""The library step form of the create/edit/copy modal.

Commands are a small repeating list: every row posts `command_label`, `command_text` and
`command_type`, read back with `getlist` in order, so adding or removing rows needs no index
bookkeeping. The services own validation; their field errors land next to the fields here.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from steplibrary import services
from steplibrary.models import LibraryStep, StepType, Visibility

COMMAND_TYPES = ["shell", "powershell", "cmd", "bash", "sql", "text"]


class LibraryStepForm(forms.Form):
    title = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"autofocus": True}))
    step_type = forms.ChoiceField(choices=StepType.choices, label="Type")
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=services.MAX_TEXT,
        help_text="What the engineer does. [VAR:name] placeholders are kept as they are.",
    )
    help_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=services.MAX_TEXT,
        label="Help text",
        help_text="Expected outcome or a hint shown under the instructions.",
    )
    group_label = forms.CharField(
        max_length=255, required=False, label="Group", help_text="e.g. Preparation"
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.PRIVATE,
        help_text="Private: only you. Team: your team. Public: every ResolutionFlow user.",
    )
    category = forms.CharField(max_length=100, required=False)
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. citrix, vda"
    )

    def __init__(
        self, *args: Any, user: User, instance: LibraryStep | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Re-shown with errors: focus goes to the first invalid field, not the title.
            self.fields["title"].widget.attrs.pop("autofocus", None)
        self.user = user
        self.instance = instance
        self._limit_visibility(user, instance)
        self.commands = self._posted_commands() if self.is_bound else self._initial_commands()
        self.command_errors: list[str] = []

    def _limit_visibility(self, user: User, instance: LibraryStep | None) -> None:
        """Only staff share steps with every team; an entry already public may stay so."""
        keep_public = user.is_staff or (instance and instance.visibility == Visibility.PUBLIC)
        if not keep_public:
            field = self.fields["visibility"]
            field.choices = [c for c in Visibility.choices if c[0] != Visibility.PUBLIC]
            field.help_text = "Private: only you. Team: your team. Only staff share with everyone."

    # --- commands -----------------------------------------------------------------------

    def _posted(self, name: str) -> list[str]:
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            return getlist(name)
        value = self.data.get(name, [])
        return value if isinstance(value, list) else [value]

    def _posted_commands(self) -> list[dict[str, str]]:
        rows = zip_longest(
            self._posted("command_label"),
            self._posted("command_text"),
            self._posted("command_type"),
            fillvalue="",
        )
        return [{"label": la, "command": co, "command_type": ty} for la, co, ty in rows]

    def _initial_commands(self) -> list[dict[str, str]]:
        return list(self.initial.get("commands") or [])

    @property
    def command_rows(self) -> list[dict[str, str]]:
        """What the modal renders: the commands so far, or one empty row to start typing."""
        return self.commands or [{"label": "", "command": "", "command_type": "shell"}]

    @property
    def command_types(self) -> list[str]:
        used = [row["command_type"] for row in self.commands if row.get("command_type")]
        return list(dict.fromkeys([*COMMAND_TYPES, *used]))

    # --- cleaning and saving ------------------------------------------------------------

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "step_type": data["step_type"],
            "instructions": data["instructions"],
            "help_text": data["help_text"],
            "group_label": data["group_label"],
            "visibility": data["visibility"],
            "category": data["category"],
            "tags": data["tags"],
            "commands": self.commands,
        }

    def add_service_errors(self, invalid: ValidationError) -> None:
        for name, messages in invalid.message_dict.items():
            if name == "commands":
                self.command_errors.extend(messages)
            elif name in self.fields:
                for message in messages:
                    self.add_error(name, message)
            else:
                for message in messages:
                    self.add_error(None, message)

    def save(self) -> LibraryStep | None:
        """Create (or update ``instance``); None with errors on the form when refused."""
        if not self.is_valid():
            # Still check the commands, so every problem shows in one round trip.
            try:
                services.clean_commands(self.commands)
            except ValidationError as invalid:
                self.add_service_errors(invalid)
            return None
        try:
            if self.instance is None:
                return services.library_step_create(user=self.user, **self.service_fields())
            return services.library_step_update(
                step=self.instance, user=self.user, **self.service_fields()
            )
        except ValidationError as invalid:
            self.add_service_errors(invalid)
        except PermissionDenied as denied:
            self.add_error(None, str(denied))
        return None

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.command_errors)


def initial_from_step(step: LibraryStep) -> dict[str, Any]:
    """Edit: the entry as it is."""
    initial = services.copy_initial(step)
    initial["visibility"] = step.visibility
    initial["tags"] = ", ".join(initial["tags"])
    return initial


def initial_for_copy(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "tags": ", ".join(fields.get("tags", []))}
