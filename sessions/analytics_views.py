"""The analytics pages: a flow's figures as charts (and CSV), the "Needs review" list."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from sessions import analytics, charts
from sessions.analytics import BUCKET_LABELS, BUCKETS, PERIOD_LABELS, PERIODS


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
        {"flagged": flagged, "flag_labels": analytics.FLAG_LABELS},
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
