from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: object, roles: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["role"].choices = roles
        self.fields["role"].initial = "engineer"


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class RedactionOptionsForm(forms.Form):
    redact_internal = forms.BooleanField(
        required=False,
        label="Redact internal addresses, MAC and e-mail addresses",
        help_text="Besides passwords, keys and tokens, private IP addresses, MAC addresses and "
        "e-mail addresses count as findings in Copy for Ticket and the exports.",
    )
    always_redact = forms.BooleanField(
        required=False,
        label="Always redact",
        help_text="Copy for Ticket no longer offers “Copy as is”: findings are always redacted "
        "(or reviewed one by one).",
    )
