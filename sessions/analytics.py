"""Flow analytics: what happens in runs, summed in SQL from the daily rollup of the event log.

Every figure is a GROUP BY over `FlowCount` (kept by `sessions.rollup` in each event's
transaction) or over a flow's open runs, so the number of queries — and the rows read — do not
grow with the number of sessions. The same functions serve the page, the CSV, the API and the
step-health flags (flags for many flows at once group by flow); the dashboard reads sessions.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Role
from flows import nodes
from flows.models import Tree
from sessions.models import (
    ALL_TIME,
    Batch,
    FlowCount,
    FlowSession,
    Outcome,
    SessionStatus,
)

PERIODS = {"7d": 7, "30d": 30, "90d": 90, "all": None}
PERIOD_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "all": "All time"}
DEFAULT_PERIOD = "30d"

# The five outcome groups of the charts; the six stored outcomes fold into three of them.
BUCKETS = ("resolved", "escalated", "unresolved", "abandoned", "in_progress")
BUCKET_LABELS = {
    "resolved": "Resolved",
    "escalated": "Escalated",
    "unresolved": "Unresolved",
    "abandoned": "Abandoned",
    "in_progress": "In progress",
}
RESOLVED = (Outcome.RESOLVED, Outcome.WORKAROUND, Outcome.RESOLVED_EXTERNALLY)
UNRESOLVED = (Outcome.UNRESOLVED, Outcome.CANCELLED)

# Duration histogram bins, in minutes (the last is open-ended).
DURATION_BINS = (0, 5, 15, 30, 60, 120, 240)

FLAG_LABELS = {
    "often_skipped": "Often skipped",
    "unhelpful": "Unhelpful",
    "patched": "Patched",
    "dead_branch": "Dead branch",
    "stale": "Stale",
}
FLAG_CHOICES = list(FLAG_LABELS.items())


def health() -> dict[str, Any]:
    return settings.STEP_HEALTH


def period_since(period: str, now: datetime | None = None) -> datetime | None:
    days = PERIODS[period]
    return None if days is None else (now or timezone.now()) - timedelta(days=days)


# --- building blocks: one query each --------------------------------------------------
# Figures of runs that started in the period come from the daily counters (FlowCount, kept by
# sessions.rollup with each event); what depends on the clock — which open runs count as
# abandoned — is read from the open runs themselves.


def runs_of(tree_ids: list[Any], since: datetime | None) -> QuerySet[FlowSession]:
    """Sessions of these flows that started (batch targets not yet started are no run)."""
    runs = FlowSession.objects.filter(tree_id__in=tree_ids, started_at__isnull=False)
    return runs.filter(started_at__gte=since) if since else runs


def since_day(since: datetime | None) -> date | None:
    return None if since is None else timezone.localdate(since)


def counts_for(tree_ids: list[Any], since: datetime | None) -> dict[Any, Counter]:
    """Flow → {(key, node): total} over the period: one GROUP BY over the daily counters."""
    counts = FlowCount.objects.filter(tree_id__in=tree_ids)
    if since is None:
        counts = counts.filter(day=ALL_TIME)
    else:
        counts = counts.filter(day__gte=since_day(since))
    rows = counts.values("tree_id", "key", "node_id").annotate(total=Sum("value"))
    found: dict[Any, Counter] = defaultdict(Counter)
    for row in rows:
        found[row["tree_id"]][(row["key"], row["node_id"])] = row["total"]
    return found


def bucket_filters(now: datetime) -> dict[str, Q]:
    """Abandoned = in progress and untouched for `abandoned_after_days` (the dashboard reads
    sessions directly)."""
    stale = now - timedelta(days=health()["abandoned_after_days"])
    open_ = Q(status=SessionStatus.IN_PROGRESS)
    return {
        "resolved": Q(status=SessionStatus.COMPLETED, outcome__in=RESOLVED),
        "escalated": Q(status=SessionStatus.COMPLETED, outcome=Outcome.ESCALATED),
        "unresolved": Q(status=SessionStatus.COMPLETED, outcome__in=UNRESOLVED),
        "abandoned": open_ & Q(updated_at__lt=stale),
        "in_progress": open_ & Q(updated_at__gte=stale),
    }


def open_runs(tree: Tree, since: datetime | None, now: datetime) -> list[dict[str, Any]]:
    """Open runs by start week and current node, with how many of them are abandoned."""
    stale = now - timedelta(days=health()["abandoned_after_days"])
    return list(
        runs_of([tree.pk], since)
        .filter(status=SessionStatus.IN_PROGRESS)
        .annotate(week=TruncWeek("started_at"))
        .values("week", "current_node_id")
        .annotate(open=Count("id"), abandoned=Count("id", filter=Q(updated_at__lt=stale)))
    )


def weekly_counts(tree: Tree, since: datetime | None) -> list[dict[str, Any]]:
    """Runs and completions by outcome group, per week of the runs' start."""
    counts = FlowCount.objects.filter(tree=tree, key__in=["run", *OUTCOME_KEYS])
    counts = counts.filter(day__gte=since_day(since) if since else ALL_TIME + timedelta(days=1))
    return list(
        counts.annotate(week=TruncWeek("day"))
        .values("week", "key")
        .annotate(total=Sum("value"))
        .order_by("week")
    )


OUTCOME_KEYS = ("out:resolved", "out:escalated", "out:unresolved")


def durations(counts: Counter) -> list[tuple[int, int]]:
    """(minutes, completed runs) sorted by minutes: at most one row per minute of a day."""
    return sorted(
        (int(node), total) for (key, node), total in counts.items() if key == "dur" and total
    )


def percentile_s(by_minute: list[tuple[int, int]], share: float) -> int | None:
    """Nearest-rank percentile of completed runs' durations, to the minute, in seconds."""
    total = sum(n for _, n in by_minute)
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for minutes, n in by_minute:
        seen += n
        if seen >= rank:
            return minutes * 60
    return by_minute[-1][0] * 60


def histogram(by_minute: list[tuple[int, int]]) -> list[dict[str, Any]]:
    bins = [0] * len(DURATION_BINS)
    for minutes, n in by_minute:
        index = max(i for i, low in enumerate(DURATION_BINS) if minutes >= low)
        bins[index] += n
    return [{"label": bin_label(i), "count": count} for i, count in enumerate(bins)]


# --- step health ------------------------------------------------------------------------


@dataclass
class Flag:
    id: str  # the node or step id; the flow's own id for "stale"
    flag: str

    @property
    def label(self) -> str:
        return FLAG_LABELS[self.flag]


def flow_items(tree: Tree) -> list[dict[str, Any]]:
    """The flow's nodes (troubleshooting) or tickable steps, as published."""
    structure = tree.tree_structure
    return [
        visit.node
        for visit in nodes.walk(tree.tree_type, structure)
        if tree.tree_type == "troubleshooting" or visit.node.get("type") == "procedure_step"
    ]


def verified_since(tree: Tree) -> datetime:
    return tree.verified_at or tree.published_at or tree.created_at


def health_flags(trees: list[Tree], now: datetime | None = None) -> dict[Any, list[Flag]]:
    """Flags of each published flow, from the runs of the last `window_days`: one query for
    any number of flows."""
    now = now or timezone.now()
    limits = health()
    totals = counts_for([tree.pk for tree in trees], now - timedelta(days=limits["window_days"]))
    flags: dict[Any, list[Flag]] = {}
    for tree in trees:
        counts = totals.get(tree.pk, Counter())
        runs = counts[("run", "")]
        completed = sum(counts[(key, "")] for key in OUTCOME_KEYS)
        found: list[Flag] = []
        root_id = tree.tree_structure.get("id") if isinstance(tree.tree_structure, dict) else None
        for item in flow_items(tree):
            item_id = str(item.get("id"))
            found += item_flags(
                item_id,
                runs=runs,
                completed=completed,
                skipped=counts[("skipped", item_id)],
                custom_after=counts[("custom", item_id)],
                up=counts[("up", item_id)],
                down=counts[("down", item_id)],
                reached=None
                if tree.tree_type != "troubleshooting"
                else (runs if item_id == root_id else counts[("arrive", item_id)]),
            )
        if verified_since(tree) < now - timedelta(days=limits["stale_after_days"]):
            found.append(Flag(str(tree.pk), "stale"))
        flags[tree.pk] = found
    return flags


def item_flags(
    item_id: str,
    *,
    runs: int,
    completed: int,
    skipped: int,
    custom_after: int,
    up: int,
    down: int,
    reached: int | None,
) -> list[Flag]:
    """The thresholds of settings.STEP_HEALTH applied to one step's or node's counts."""
    limits = health()
    found = []
    if (
        completed >= limits["often_skipped_min_runs"]
        and skipped >= limits["often_skipped_share"] * completed
    ):
        found.append(Flag(item_id, "often_skipped"))
    if down >= limits["unhelpful_min_downs"] and down > up:
        found.append(Flag(item_id, "unhelpful"))
    if runs >= limits["patched_min_runs"] and custom_after >= limits["patched_share"] * runs:
        found.append(Flag(item_id, "patched"))
    if reached == 0 and runs >= limits["dead_branch_min_runs"]:
        found.append(Flag(item_id, "dead_branch"))
    return found


# --- one flow's analytics ---------------------------------------------------------------


@dataclass
class NodeRow:
    id: str
    heading: str
    type: str
    depth: int
    parent: str | None
    reached: int = 0
    ended: int = 0
    abandoned: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def flag_labels(self) -> list[str]:
        return [FLAG_LABELS[flag] for flag in self.flags]


@dataclass
class StepRow:
    id: str
    heading: str
    ticked: int = 0
    skipped: int = 0
    custom_after: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    avg_tick_s: int | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def flag_labels(self) -> list[str]:
        return [FLAG_LABELS[flag] for flag in self.flags]


@dataclass
class FlowAnalytics:
    tree: Tree
    period: str
    since: datetime | None
    runs: int
    completed: int
    outcomes: dict[str, int]
    weeks: list[dict[str, Any]]
    median_s: int | None
    p90_s: int | None
    histogram: list[dict[str, Any]]
    nodes: list[NodeRow]
    steps: list[StepRow]
    ratings: dict[str, Any]
    comments: list[FlowSession]
    flags: list[Flag]
    batches: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_troubleshooting(self) -> bool:
        return self.tree.tree_type == "troubleshooting"

    @property
    def is_maintenance(self) -> bool:
        return self.tree.tree_type == "maintenance"

    def as_json(self) -> dict[str, Any]:
        """The API's body (and the CSV's figures)."""
        return {
            "flow": str(self.tree.pk),
            "period": self.period,
            "runs": self.runs,
            "outcomes": self.outcomes,
            "duration": {"median_s": self.median_s, "p90_s": self.p90_s},
            "nodes": [
                {
                    "id": n.id,
                    "heading": n.heading,
                    "reached": n.reached,
                    "ended": n.ended,
                    "abandoned": n.abandoned,
                }
                for n in self.nodes
            ],
            "steps": [
                {
                    "id": s.id,
                    "heading": s.heading,
                    "ticked": s.ticked,
                    "skipped": s.skipped,
                    "custom_after": s.custom_after,
                    "thumbs_up": s.thumbs_up,
                    "thumbs_down": s.thumbs_down,
                    "avg_tick_s": s.avg_tick_s,
                    "flags": s.flags,
                }
                for s in self.steps
            ],
            "ratings": {
                "average": self.ratings["average"],
                "count": self.ratings["count"],
                "distribution": self.ratings["distribution"],
            },
            "weeks": [
                {"week": row["week"].isoformat(), **{b: row[b] for b in BUCKETS}}
                for row in self.weeks
            ],
            "histogram": [{"label": b["label"], "count": b["count"]} for b in self.histogram],
            "flags": [{"id": f.id, "flag": f.flag} for f in self.flags],
        }


def bin_label(index: int) -> str:
    low = DURATION_BINS[index]
    if index + 1 == len(DURATION_BINS):
        return f"≥ {low // 60} h" if low >= 60 else f"≥ {low} min"
    high = DURATION_BINS[index + 1]

    def text(minutes: int) -> str:
        return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"

    return f"{text(low)}–{text(high)}" if low else f"< {text(high)}"


def flow_analytics(tree: Tree, period: str = DEFAULT_PERIOD) -> FlowAnalytics:
    """Everything the analytics page, CSV and API show for one flow, in a fixed number of
    queries however many runs it has: the counters, the weekly counters, the open runs, the
    health flags, the latest comments (and for maintenance flows batches and targets)."""
    now = timezone.now()
    since = period_since(period, now)
    counts = counts_for([tree.pk], since).get(tree.pk, Counter())
    open_rows = open_runs(tree, since, now)
    abandoned = sum(row["abandoned"] for row in open_rows)
    still_open = sum(row["open"] for row in open_rows) - abandoned
    flags = health_flags([tree], now)[tree.pk]
    flags_by_item: dict[str, list[str]] = defaultdict(list)
    for flag in flags:
        flags_by_item[flag.id].append(flag.flag)
    by_minute = durations(counts)
    stars = {str(n): counts[("star", str(n))] for n in range(1, 6)}
    rated = sum(stars.values())
    node_rows: list[NodeRow] = []
    step_rows: list[StepRow] = []
    if tree.tree_type == "troubleshooting":
        node_rows = node_table(tree, counts, open_rows, flags_by_item)
    else:
        for item in flow_items(tree):
            item_id = str(item.get("id"))
            timed = counts[("tick_n", item_id)]
            step_rows.append(
                StepRow(
                    id=item_id,
                    heading=nodes.heading(item),
                    ticked=counts[("tick", item_id)],
                    skipped=counts[("skipped", item_id)],
                    custom_after=counts[("custom", item_id)],
                    thumbs_up=counts[("up", item_id)],
                    thumbs_down=counts[("down", item_id)],
                    avg_tick_s=round(counts[("tick_s", item_id)] / timed) if timed else None,
                    flags=flags_by_item.get(item_id, []),
                )
            )
    outcomes = {
        "resolved": counts[("out:resolved", "")],
        "escalated": counts[("out:escalated", "")],
        "unresolved": counts[("out:unresolved", "")],
        "abandoned": abandoned,
        "in_progress": still_open,
    }
    result = FlowAnalytics(
        tree=tree,
        period=period,
        since=since,
        runs=counts[("run", "")],
        completed=sum(counts[(key, "")] for key in OUTCOME_KEYS),
        outcomes=outcomes,
        weeks=week_rows(weekly_counts(tree, since), open_rows),
        median_s=percentile_s(by_minute, 0.5),
        p90_s=percentile_s(by_minute, 0.9),
        histogram=histogram(by_minute),
        nodes=node_rows,
        steps=step_rows,
        ratings={
            "average": round(sum(int(k) * v for k, v in stars.items()) / rated, 2)
            if rated
            else None,
            "count": rated,
            "distribution": stars,
        },
        comments=latest_comments(tree, since),
        flags=flags,
    )
    if tree.tree_type == "maintenance":
        result.batches = batches_per_week(tree, since)
        result.targets = target_durations(runs_of([tree.pk], since))
    return result


def week_rows(counted: list[dict[str, Any]], open_rows: list[dict[str, Any]]) -> list[dict]:
    """One row per week: the outcome groups, the open runs split into abandoned and not."""
    weeks: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(["run", *BUCKETS], 0))
    for row in counted:
        name = row["key"].removeprefix("out:")
        weeks[as_date(row["week"])][name] += row["total"]
    for row in open_rows:
        week = weeks[as_date(row["week"])]
        week["abandoned"] += row["abandoned"]
        week["in_progress"] += row["open"] - row["abandoned"]
    return [
        {"week": week, **{name: row[name] for name in BUCKETS}, "total": row["run"]}
        for week, row in sorted(weeks.items())
    ]


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def latest_comments(tree: Tree, since: datetime | None, limit: int = 5) -> list[FlowSession]:
    """The newest rating comments of runs started in the period (a partial index finds them)."""
    return list(
        runs_of([tree.pk], since)
        .exclude(rating_comment="")
        .select_related("user")
        .only(*COMMENT_FIELDS)
        .order_by("-completed_at")[:limit]
    )


COMMENT_FIELDS = (
    "id",
    "rating",
    "rating_comment",
    "completed_at",
    "user__full_name",
    "user__email",
)


def node_table(
    tree: Tree,
    counts: Counter,
    open_rows: list[dict[str, Any]],
    flags_by_item: dict[str, list[str]],
) -> list[NodeRow]:
    """Each node of the published tree in document order with its reach and end counts."""
    abandoned: Counter[str] = Counter()
    for row in open_rows:
        abandoned[row["current_node_id"]] += row["abandoned"]
    rows = []
    for visit in nodes.walk(tree.tree_type, tree.tree_structure):
        node_id = str(visit.node.get("id"))
        rows.append(
            NodeRow(
                id=node_id,
                heading=nodes.heading(visit.node),
                type=str(visit.node.get("type") or ""),
                depth=visit.depth,
                parent=str(visit.parent.get("id")) if visit.parent else None,
                reached=counts[("run", "")]
                if visit.parent is None
                else counts[("arrive", node_id)],
                ended=counts[("ended", node_id)],
                abandoned=abandoned[node_id],
                flags=flags_by_item.get(node_id, []),
            )
        )
    return rows


def batches_per_week(tree: Tree, since: datetime | None) -> list[dict[str, Any]]:
    batches = Batch.objects.filter(tree=tree)
    if since:
        batches = batches.filter(created_at__gte=since)
    return list(
        batches.annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(batches=Count("id"), targets=Count("sessions"))
        .order_by("week")
    )


def duration_expression() -> ExpressionWrapper:
    return ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())


DONE = Q(status=SessionStatus.COMPLETED, completed_at__isnull=False)


def target_durations(runs: QuerySet[FlowSession], limit: int = 20) -> list[dict[str, Any]]:
    """The slowest targets on average (completed batch runs), with their run counts."""
    rows = (
        runs.filter(DONE, batch__isnull=False)
        .values("target_label")
        .annotate(
            runs=Count("id"),
            average=Avg(duration_expression()),
            slowest=Max(duration_expression()),
        )
        .order_by("-average")[:limit]
    )
    return [
        {
            "target": row["target_label"],
            "runs": row["runs"],
            "average_s": round(row["average"].total_seconds()) if row["average"] else None,
            "slowest_s": round(row["slowest"].total_seconds()) if row["slowest"] else None,
        }
        for row in rows
    ]


# --- who may read a flow's analytics ----------------------------------------------------


def analytics_tree(user: Any, pk: Any) -> Tree:
    """The flow whose analytics this user may read: engineers and above of the owning
    account, staff for any flow (default flows have no account). Another account's flow is a
    404, a viewer of the account gets a 403."""
    tree = get_object_or_404(Tree.objects.for_user(user), pk=pk)
    if user.is_staff:
        return tree
    if tree.account_id is None or tree.account_id != user.account_id:
        raise Http404("No such flow.")
    if not user.has_role(Role.ENGINEER):
        raise PermissionDenied("Engineers and above read a flow's analytics.")
    return tree


# --- flows that need review -------------------------------------------------------------


@dataclass
class ReviewRow:
    tree: Tree
    flags: list[Flag]
    headings: dict[str, str]

    @property
    def items(self) -> list[tuple[str, list[str]]]:
        """(step or node heading, flag labels), the flow's own flags first."""
        grouped: dict[str, list[str]] = defaultdict(list)
        for flag in self.flags:
            name = (
                "The whole flow"
                if flag.id == str(self.tree.pk)
                else self.headings.get(flag.id, flag.id)
            )
            grouped[name].append(flag.label)
        return list(grouped.items())


REVIEW_FIELDS = (
    "id",
    "name",
    "tree_type",
    "tree_structure",
    "verified_at",
    "published_at",
    "created_at",
    "account_id",
)


def flows_needing_review(user: Any) -> list[ReviewRow]:
    """The user's account's published flows with at least one flag, most flags first (staff
    without an account: the default flows). Six queries for any number of flows."""
    trees = list(
        Tree.objects.filter(account_id=user.account_id, status="published", is_active=True).only(
            *REVIEW_FIELDS
        )
    )
    flags = health_flags(trees)
    rows = [
        ReviewRow(
            tree=tree,
            flags=flags[tree.pk],
            headings={str(item.get("id")): nodes.heading(item) for item in flow_items(tree)},
        )
        for tree in trees
        if flags[tree.pk]
    ]
    rows.sort(key=lambda row: (-len(row.flags), row.tree.name.lower()))
    return rows


# --- the team dashboard -----------------------------------------------------------------


@dataclass
class Dashboard:
    open_sessions: list[FlowSession]
    batches: list[Batch]
    top_flows: list[dict[str, Any]]
    outcomes: dict[str, int]
    runs: int
    engineers: list[dict[str, Any]] | None  # admins and owners only
    month_start: datetime


def month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def team_dashboard(user: Any, limit: int = 8) -> Dashboard:
    """The landing page's figures for one engineer and their account: six queries at most."""
    now = timezone.now()
    since = month_start(now)
    open_sessions = list(
        FlowSession.objects.filter(user=user, status=SessionStatus.IN_PROGRESS, mark="")
        .select_related("tree", "batch")
        .defer("structure_snapshot", "tree__tree_structure", "tree__draft_structure")
        .order_by("-updated_at")[:limit]
    )
    batches = list(
        Batch.objects.filter(account_id=user.account_id)
        .annotate(
            total=Count("sessions", filter=Q(sessions__current=True)),
            done=Count(
                "sessions",
                filter=Q(sessions__current=True)
                & (Q(sessions__status=SessionStatus.COMPLETED) | ~Q(sessions__mark="")),
            ),
        )
        .filter(done__lt=F("total"))
        .select_related("tree")
        .only("id", "created_at", "ticket_number", "tree__id", "tree__name")
        .order_by("-created_at")[:limit]
    )
    month = FlowSession.objects.filter(
        account_id=user.account_id, started_at__isnull=False, started_at__gte=since
    )
    top_flows = list(
        month.exclude(tree__isnull=True)
        .values("tree_id", "tree_name")
        .annotate(runs=Count("id"))
        .order_by("-runs", "tree_name")[:limit]
    )
    totals = month.aggregate(
        runs=Count("id"), **{name: Count("id", filter=q) for name, q in bucket_filters(now).items()}
    )
    engineers = None
    if user.has_role(Role.ADMIN):
        engineers = list(
            month.exclude(user__isnull=True)
            .values("user_id", "user__full_name", "user__email")
            .annotate(runs=Count("id"), completed=Count("id", filter=DONE))
            .order_by("-runs", "user__email")
        )
        for row in engineers:
            row["name"] = row["user__full_name"] or row["user__email"].split("@")[0]
    return Dashboard(
        open_sessions=open_sessions,
        batches=batches,
        top_flows=top_flows,
        outcomes={name: totals[name] for name in BUCKETS},
        runs=totals["runs"],
        engineers=engineers,
        month_start=since,
    )


# --- a fork beside its parent -----------------------------------------------------------


@dataclass
class OutcomeSide:
    tree: Tree
    runs: int
    completed: int
    resolved: int
    median_s: int | None
    own_team_only: bool = False  # the parent belongs to others: only this team's runs count

    @property
    def resolution_rate(self) -> float | None:
        return round(100 * self.resolved / self.completed, 1) if self.completed else None


def _side_from_counts(tree: Tree, counts: Counter) -> OutcomeSide:
    return OutcomeSide(
        tree=tree,
        runs=counts[("run", "")],
        completed=sum(counts[(key, "")] for key in OUTCOME_KEYS),
        resolved=counts[("out:resolved", "")],
        median_s=percentile_s(durations(counts), 0.5),
    )


MEDIAN_SAMPLE = 10_000


def _side_of_team_runs(tree: Tree, account_id: Any, since: datetime | None) -> OutcomeSide:
    """A parent owned by others (a default flow, public content): only this team's runs of it,
    so no team reads another's figures. Two queries."""
    runs = runs_of([tree.pk], since).filter(account_id=account_id)
    totals = runs.aggregate(
        runs=Count("pk"),
        completed=Count("pk", filter=Q(outcome__in=["resolved", "escalated", "unresolved"])),
        resolved=Count("pk", filter=Q(outcome="resolved")),
    )
    spans = sorted(
        (done - start).total_seconds()
        for start, done in runs.filter(completed_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", "completed_at")[:MEDIAN_SAMPLE]
    )
    median = round(spans[len(spans) // 2]) if spans else None
    return OutcomeSide(tree, totals["runs"], totals["completed"], totals["resolved"], median, True)


def fork_outcomes(user: Any, fork: Tree, period: str = DEFAULT_PERIOD) -> list[OutcomeSide]:
    """Resolution rate and median duration of a fork and of its parent over the same period."""
    since = period_since(period)
    parent = fork.parent_tree
    counts = counts_for([fork.pk, *([parent.pk] if parent else [])], since)
    sides = [_side_from_counts(fork, counts.get(fork.pk, Counter()))]
    if parent is not None:
        if user.is_staff or (parent.account_id and parent.account_id == user.account_id):
            sides.append(_side_from_counts(parent, counts.get(parent.pk, Counter())))
        else:
            sides.append(_side_of_team_runs(parent, user.account_id, since))
    return sides
