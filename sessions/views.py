from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    return render(request, "flowsessions/history.html")


@login_required
@require_GET
def target_lists(request: HttpRequest) -> HttpResponse:
    return render(request, "flowsessions/target_lists.html")
