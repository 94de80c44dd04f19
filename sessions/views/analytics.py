"""The analytics pages: a flow's figures as charts (and CSV), the "Needs review" list."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from flows import services as flow_services
from sessions import analytics, charts, suggestions
from sessions.analytics import BUCKET_LABELS, BUCKETS, PERIOD_LABELS, PERIODS
from sessions.services.handover import unread_notifications


def chosen_period(request: HttpRequest) -> str:
    period = request.GET.get("period", analytics.DEFAULT_PERIOD)
    return period if period in PERIODS else analytics.DEFAULT_PERIOD


@login_required
@require_GET
def flow_analytics(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = analytics.analytics_tree(request.user, pk)
    figures = analytics.flow_analytics(tree, chosen_period(request))
    if request.GET.get("format") == "csv":
        return csv_response(figures)
    week_labels = [row["week"].strftime("%-d %b") for row in figures.weeks]
    context = {
        "tree": tree,
        "figures": figures,
        "periods": PERIOD_LABELS,
        "buckets": [(name, BUCKET_LABELS[name]) for name in BUCKETS],
        "weeks_chart": charts.stacked_bars(figures.weeks, week_labels),
        "week_rows": list(zip(week_labels, figures.weeks, strict=True)),
        "histogram_chart": charts.simple_bars(
            [(row["label"], row["count"]) for row in figures.histogram]
        ),
        "diagram": charts.drop_off_diagram(tree.tree_structure, figures.nodes)
        if figures.is_troubleshooting
        else None,
        "node_rows": charts.node_table_rows(figures.nodes),
        "flag_labels": analytics.FLAG_LABELS,
        "stale": any(flag.flag == "stale" for flag in figures.flags),
        "can_verify": tree.can_be_edited_by(request.user),
    }
    return render(request, "analytics/flow.html", context)


def cell(value: Any) -> Any:
    """Text a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value


def csv_response(figures: analytics.FlowAnalytics) -> HttpResponse:
    """The page's figures, one per line: section, id, label, metric, value."""
    name = slugify(figures.tree.name) or "flow"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-analytics-{figures.period}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["section", "id", "label", "metric", "value"])
    data = figures.as_json()
    writer.writerow(["summary", "", "Runs", "runs", data["runs"]])
    for name in BUCKETS:
        writer.writerow(["outcome", "", BUCKET_LABELS[name], name, data["outcomes"][name]])
    writer.writerow(["duration", "", "Median", "median_s", data["duration"]["median_s"]])
    writer.writerow(["duration", "", "90th percentile", "p90_s", data["duration"]["p90_s"]])
    for row in data["histogram"]:
        writer.writerow(["histogram", "", row["label"], "runs", row["count"]])
    for row in data["weeks"]:
        for name in BUCKETS:
            writer.writerow(["week", row["week"], f"Week of {row['week']}", name, row[name]])
    for node in data["nodes"]:
        for metric in ("reached", "ended", "abandoned"):
            writer.writerow(["node", cell(node["id"]), cell(node["heading"]), metric, node[metric]])
    step_metrics = ("ticked", "skipped", "custom_after", "thumbs_up", "thumbs_down", "avg_tick_s")
    for step in data["steps"]:
        for metric in step_metrics:
            writer.writerow(["step", cell(step["id"]), cell(step["heading"]), metric, step[metric]])
    writer.writerow(["rating", "", "Average", "average", data["ratings"]["average"]])
    writer.writerow(["rating", "", "Ratings", "count", data["ratings"]["count"]])
    for stars, count in data["ratings"]["distribution"].items():
        writer.writerow(["rating", stars, f"{stars} stars", "count", count])
    for flag in data["flags"]:
        writer.writerow(
            ["flag", cell(flag["id"]), analytics.FLAG_LABELS[flag["flag"]], "flag", flag["flag"]]
        )
    return response


@login_required
@require_GET
def needs_review(request: HttpRequest) -> HttpResponse:
    """The account's published flows with health flags, most flags first."""
    if not request.user.can_edit_content:
        raise PermissionDenied("Engineers and above see which flows need review.")
    flagged = analytics.flows_needing_review(request.user)
    return render(
        request,
        "analytics/review.html",
        {
            "flagged": flagged,
            "flag_labels": analytics.FLAG_LABELS,
            "suggestions": suggestions.suggestions_for_account(request.user),
        },
    )


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where "/" and a fresh login land: the team dashboard for engineers and above, the flow
    library for viewers."""
    if request.user.can_edit_content and request.user.account_id is not None:
        return redirect("dashboard")
    return redirect("flows:library")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.can_edit_content or request.user.account_id is None:
        raise PermissionDenied("The dashboard is for engineers and above.")
    board = analytics.team_dashboard(request.user)
    return render(
        request,
        "analytics/dashboard.html",
        {
            "board": board,
            "buckets": [(name, BUCKET_LABELS[name]) for name in BUCKETS],
            "outcome_strip": charts.share_strip(board.outcomes),
            "unread": unread_notifications(request.user).count(),
        },
    )


@login_required
@require_GET
def fork_outcomes(request: HttpRequest, pk: Any) -> HttpResponse:
    """The compare page's panel: the fork's resolution rate and median duration beside its
    parent's over the same period."""
    tree = analytics.analytics_tree(request.user, pk)
    period = chosen_period(request)
    context = {
        "sides": analytics.fork_outcomes(request.user, tree, period),
        "period_label": PERIOD_LABELS[period],
    }
    return render(request, "analytics/_fork_outcomes.html", context)


# --- custom steps proposed back ---------------------------------------------------------


@login_required
@require_GET
def flow_suggestions(request: HttpRequest, pk: Any) -> HttpResponse:
    """The flow page's panel: steps engineers keep adding, with Accept and Dismiss."""
    tree = analytics.analytics_tree(request.user, pk)
    found = suggestions.step_suggestions([tree])[tree.pk]
    context = {"tree": tree, "suggestions": found, "can_edit": tree.can_be_edited_by(request.user)}
    return render(request, "analytics/_suggestions.html", context)


def _suggestion(request: HttpRequest, pk: Any) -> tuple[Any, suggestions.Suggestion | None]:
    """The flow and the suggestion the form names (by anchor and title), as it stands now."""
    tree = analytics.analytics_tree(request.user, pk)
    after, key = request.POST.get("after", ""), request.POST.get("key", "")
    found = suggestions.step_suggestions([tree])[tree.pk]
    return tree, next((s for s in found if s.after_id == after and s.key == key), None)


def _back(request: HttpRequest, tree: Any) -> HttpResponse:
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("flows:detail", pk=tree.pk)


@login_required
@require_POST
def suggestion_accept(request: HttpRequest, pk: Any) -> HttpResponse:
    """Insert the proposed step into the working copy and show the change as a diff."""
    tree, suggestion = _suggestion(request, pk)
    if suggestion is None:
        messages.error(request, "That suggestion is no longer open.")
        return _back(request, tree)
    example = suggestion.example
    try:
        flow_services.tree_step_insert(
            tree=tree,
            user=request.user,
            after_id=suggestion.after_id,
            title=suggestion.title,
            description=example.get("instructions") or "",
            commands=example.get("commands"),
        )
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return _back(request, tree)
    messages.success(
        request, f"Added ‘{suggestion.title}’ to the working copy. Publish to make it live."
    )
    latest = tree.versions.order_by("-number").values_list("number", flat=True).first()
    start = "live" if tree.is_published else (latest or "live")
    return redirect(f"{reverse('flows:diff', args=[tree.pk])}?from={start}&to=draft")


@login_required
@require_POST
def suggestion_dismiss(request: HttpRequest, pk: Any) -> HttpResponse:
    tree, suggestion = _suggestion(request, pk)
    if suggestion is not None:
        flow_services.step_suggestion_dismiss(tree=tree, user=request.user, title=suggestion.title)
        messages.success(request, f"‘{suggestion.title}’ will not be suggested again.")
    return _back(request, tree)
