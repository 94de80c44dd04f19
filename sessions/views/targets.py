"""Target list pages: the saved sets of hosts a maintenance batch is launched on."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sessions.forms import TargetListForm
from sessions.models import TargetList
from sessions.services import targets


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    lists = TargetList.objects.for_user(request.user).select_related("created_by")
    return render(request, "flowsessions/target_lists.html", {"lists": lists})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: Any = None) -> HttpResponse:
    target_list = None
    if pk is not None:
        target_list = get_object_or_404(TargetList.objects.for_user(request.user), pk=pk)
    targets.ensure_can_manage_targets(request.user)
    form = TargetListForm(request.POST or None, instance=target_list)
    if request.method == "POST" and form.is_valid():
        try:
            saved = targets.target_list_save(
                user=request.user, target_list=target_list, **form.cleaned_data
            )
        except ValidationError as invalid:
            for field, errors in invalid.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Saved “{saved.name}” ({len(saved.targets)} targets).")
            return redirect("targets:index")
    return render(
        request, "flowsessions/target_list_form.html", {"form": form, "target_list": target_list}
    )


@login_required
@require_POST
def delete(request: HttpRequest, pk: Any) -> HttpResponse:
    target_list = get_object_or_404(TargetList.objects.for_user(request.user), pk=pk)
    targets.target_list_delete(user=request.user, target_list=target_list)
    messages.success(request, f"Deleted “{target_list.name}”.")
    return redirect("targets:index")
