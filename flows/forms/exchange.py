"""Forms of forking a flow and importing an exported one."""

from __future__ import annotations

from django import forms

from flows import services, structure


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
