from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
