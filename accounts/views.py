from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from accounts import selectors, services
from accounts.forms import InvitationAcceptForm, InviteForm, LoginForm, RedactionOptionsForm
from accounts.models import AuditAction, Invitation, User
from resolutionflow.errors import ServiceError
from resolutionflow.pages import is_partial, refusal_text, with_toast


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)  # keeps this session logged in
        services.password_changed(user=self.request.user, request=self.request)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Send a reset link; the page says the same whether or not the address has a login."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("flows:library")
    post_reset_login = True
    post_reset_login_backend = "accounts.backends.EmailBackend"

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        user = form.user
        response = super().form_valid(form)
        services.password_changed(
            user=user, action=AuditAction.PASSWORD_RESET, request=self.request
        )
        messages.success(self.request, "Your password has been reset. You are logged in.")
        return response


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/profile.html", {"token": token, "new_key": None})


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    token = services.api_token_create(user=request.user, request=request)
    messages.success(request, "New API token created. Copy it now: it replaces any older token.")
    # The key is shown once, on this response only.
    return render(request, "accounts/profile.html", {"token": token, "new_key": token.key})


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    if services.api_token_revoke(user=request.user, request=request):
        messages.success(request, "API token revoked. Scripts using it can no longer sign in.")
    else:
        messages.info(request, "You had no API token.")
    return redirect("accounts:profile")


# --- Team management (issue 10) ---


def invitation_link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("team:invitation-accept", args=[token]))


def _member_row(request: HttpRequest, member: User) -> dict[str, object]:
    """One row of the team table: the roles this viewer may pick for this member, if any."""
    refusal = services.member_manage_refusal(actor=request.user, member=member)
    roles = services.roles_assignable(actor=request.user) if refusal is None else []
    return {
        "member": member,
        "roles": [(r.value, r.label) for r in roles],
        "manageable": bool(roles),
    }


def _invite_form(request: HttpRequest, data: object = None) -> InviteForm:
    roles = [(r.value, r.label) for r in services.roles_assignable(actor=request.user)]
    return InviteForm(data, roles=roles)  # type: ignore[arg-type]


def _ensure_manager(request: HttpRequest) -> None:
    if request.user.account_id is None or not request.user.can_manage_account:
        raise PermissionDenied("Only owners and admins manage the team.")


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request)
    members = selectors.team_members(user=request.user)
    context = {
        "rows": [_member_row(request, member) for member in members],
        "invitations": _invitation_rows(request),
        "form": _invite_form(request),
        "link": None,
        "redaction_form": _redaction_form(request),
    }
    return render(request, "team/index.html", context)


def _redaction_form(request: HttpRequest, data: object = None) -> RedactionOptionsForm:
    account = request.user.account
    initial = {"redact_internal": account.redact_internal, "always_redact": account.always_redact}
    return RedactionOptionsForm(data, initial=initial)  # type: ignore[arg-type]


@login_required
@require_POST
def redaction_options(request: HttpRequest) -> HttpResponse:
    """Owners and admins choose what Copy for Ticket and the exports redact."""
    _ensure_manager(request)
    form = _redaction_form(request, request.POST)
    saved = False
    if form.is_valid():
        try:
            services.account_set_redaction(
                actor=request.user,
                account=request.user.account,
                request=request,
                **form.cleaned_data,
            )
        except ServiceError as refused:
            form.add_error(None, refusal_text(refused))
        else:
            saved = True
            request.user.refresh_from_db()
            form = _redaction_form(request)
    if not is_partial(request):
        if saved:
            messages.success(request, "Redaction options saved.")
        return redirect("team:index")
    response = render(
        request, "team/index.html#redaction-panel", {"redaction_form": form, "saved": saved}
    )
    return with_toast(response, "Redaction options saved.", "success") if saved else response


def _row_response(request: HttpRequest, member: User, refusal: str | None = None) -> HttpResponse:
    member = User.objects.get(pk=member.pk)
    if not is_partial(request):
        if refusal:
            messages.error(request, refusal)
        return redirect("team:index")
    response = render(request, "team/index.html#member-row", {"row": _member_row(request, member)})
    return with_toast(response, refusal) if refusal else response


def _team_member(request: HttpRequest, pk: int) -> User:
    _ensure_manager(request)
    return get_object_or_404(selectors.team_members(user=request.user), pk=pk)


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    member = _team_member(request, pk)
    try:
        services.member_set_role(
            actor=request.user, member=member, role=request.POST.get("role", ""), request=request
        )
    except ValueError:
        return _row_response(request, member, "Choose one of the roles offered.")
    except ServiceError as refused:
        return _row_response(request, member, refusal_text(refused))
    return _row_response(request, member)


@login_required
@require_POST
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_row_change(request, pk, services.member_deactivate)


@login_required
@require_POST
def member_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_row_change(request, pk, services.member_reactivate)


def _member_row_change(request: HttpRequest, pk: int, change: Callable[..., User]) -> HttpResponse:
    """Run a team service on one member and answer with their re-rendered row (or the refusal)."""
    member = _team_member(request, pk)
    try:
        change(actor=request.user, member=member, request=request)
    except ServiceError as refused:
        return _row_response(request, member, refusal_text(refused))
    return _row_response(request, member)


def _invitation_rows(request: HttpRequest) -> list[dict[str, object]]:
    """Open invitations, each with whether this viewer may resend or revoke it."""
    roles = services.roles_assignable(actor=request.user)
    return [
        {"invitation": invitation, "manageable": invitation.role in roles}
        for invitation in selectors.open_invitations(user=request.user)
    ]


def _invite_panel(
    request: HttpRequest,
    form: InviteForm,
    *,
    link: str | None = None,
    notice: str = "",
    refusal: str = "",
) -> HttpResponse:
    """The invite form and the open invitations (htmx), or the whole team page."""
    context = {
        "form": form,
        "link": link,
        "notice": notice,
        "invitations": _invitation_rows(request),
    }
    if is_partial(request):
        response = render(request, "team/index.html#invite-panel", context)
        return with_toast(response, refusal) if refusal else response
    if refusal:
        messages.error(request, refusal)
        return redirect("team:index")
    members = selectors.team_members(user=request.user)
    context["rows"] = [_member_row(request, member) for member in members]
    context["redaction_form"] = _redaction_form(request)
    return render(
        request, "team/index.html", context, status=400 if form.is_bound and form.errors else 200
    )


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request)
    form = _invite_form(request, request.POST)
    link = None
    if form.is_valid():
        try:
            _, link = services.member_invite(
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                link_for=lambda token: invitation_link(request, token),
                request=request,
            )
        except ServiceError as refused:
            form.add_error("email", refusal_text(refused))
        else:
            form = _invite_form(request)
    return _invite_panel(request, form, link=link, notice="Invitation sent." if link else "")


def _team_invitation(request: HttpRequest, pk: int) -> Invitation:
    _ensure_manager(request)
    return get_object_or_404(selectors.open_invitations(user=request.user), pk=pk)


@login_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """A new link by e-mail (and shown here); the link sent before stops working."""
    invitation = _team_invitation(request, pk)
    try:
        _, link = services.invitation_resend(
            actor=request.user,
            invitation=invitation,
            link_for=lambda token: invitation_link(request, token),
            request=request,
        )
    except ServiceError as refused:
        return _invite_panel(request, _invite_form(request), refusal=refusal_text(refused))
    notice = f"New invitation sent to {invitation.email}; the earlier link no longer works."
    if not is_partial(request):
        messages.success(request, notice)
    return _invite_panel(request, _invite_form(request), link=link, notice=notice)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _team_invitation(request, pk)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation, request=request)
    except ServiceError as refused:
        return _invite_panel(request, _invite_form(request), refusal=refusal_text(refused))
    notice = f"Invitation of {invitation.email} revoked; its link no longer works."
    if not is_partial(request):
        messages.success(request, notice)
        return redirect("team:index")
    response = render(
        request,
        "team/index.html#invite-panel",
        {"form": _invite_form(request), "invitations": _invitation_rows(request)},
    )
    return with_toast(response, notice, "success")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link: choose a name and password, then land in the account."""
    try:
        invitation = services.invitation_for_token(token)
    except ServiceError as refused:
        return render(
            request,
            "team/accept.html",
            {"refusal": refusal_text(refused)},
            status=refused.status_code,
        )
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as invalid:
            form.add_error("password1", invalid)
        except ServiceError as refused:
            form.add_error(None, refusal_text(refused))
        else:
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, f"Welcome to {invitation.account.name}.")
            return redirect("flows:library")
    return render(request, "team/accept.html", {"invitation": invitation, "form": form})
