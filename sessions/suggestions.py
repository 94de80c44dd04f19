"""Custom steps proposed back: when engineers keep adding the same step at the same place of
a checklist, its owners are told ("Add 'Clear the print spooler' after step 4 — added in 7
runs by 3 engineers").

The same step: inserted right after the same step of the same flow, with a title equal once
normalised (case, punctuation, spacing: `flows.services.title_key`) or at least
`STEP_SUGGESTIONS["similarity"]` alike. Thresholds live in settings.STEP_SUGGESTIONS."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows import nodes
from flows.models import StepSuggestionDismissal, Tree
from flows.services import title_key
from sessions.models import FlowSession


@dataclass
class Suggestion:
    tree: Tree
    after_id: str
    after_heading: str
    after_number: int  # the anchor's position in the flow, from 1
    key: str
    titles: Counter = field(default_factory=Counter)
    sessions: set = field(default_factory=set)
    engineers: set = field(default_factory=set)
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The spelling used most often."""
        return self.titles.most_common(1)[0][0]

    @property
    def runs(self) -> int:
        return len(self.sessions)

    @property
    def text(self) -> str:
        runs, people = self.runs, len(self.engineers)
        return (
            f"Add ‘{self.title}’ after step {self.after_number} — added in {runs} "
            f"run{'s' if runs != 1 else ''} by {people} engineer{'s' if people != 1 else ''}"
        )


def _alike(a: str, b: str, similarity: float) -> bool:
    return a == b or difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() >= similarity


def step_suggestions(trees: list[Tree], now: datetime | None = None) -> dict[Any, list[Suggestion]]:
    """Suggestions per flow, strongest first. Two queries for any number of flows."""
    rules = settings.STEP_SUGGESTIONS
    similarity = rules["similarity"]
    checklists = [t for t in trees if t.is_checklist]
    found: dict[Any, list[Suggestion]] = {t.pk: [] for t in trees}
    if not checklists:
        return found
    since = (now or timezone.now()) - timedelta(days=rules["window_days"])
    by_pk = {t.pk: t for t in checklists}
    dismissed: dict[Any, list[str]] = {}
    for tree_id, key in StepSuggestionDismissal.objects.filter(tree_id__in=by_pk).values_list(
        "tree_id", "title_key"
    ):
        dismissed.setdefault(tree_id, []).append(key)
    runs = (
        FlowSession.objects.filter(tree_id__in=by_pk, created_at__gte=since)
        .exclude(custom_steps=[])
        .values_list("pk", "tree_id", "user_id", "custom_steps")
    )
    groups: dict[tuple[Any, str], list[Suggestion]] = {}
    anchors: dict[Any, dict[str, tuple[int, str, set[str]]]] = {}
    for tree in checklists:
        steps = [v.node for v in nodes.walk(tree.tree_type, tree.editing_structure)]
        present = {title_key(nodes.heading(s, with_id=False)) for s in steps}
        anchors[tree.pk] = {
            str(s.get("id")): (n, nodes.heading(s), present) for n, s in enumerate(steps, 1)
        }
    for session_id, tree_id, user_id, customs in runs.iterator(chunk_size=2000):
        for custom in customs if isinstance(customs, list) else []:
            if not isinstance(custom, dict) or not isinstance(custom.get("title"), str):
                continue
            after = str(custom.get("inserted_after") or "")
            anchor = anchors[tree_id].get(after)
            key = title_key(custom["title"])
            if anchor is None or not key:
                continue  # after another custom step, or a step since removed
            cluster = groups.setdefault((tree_id, after), [])
            match = next((s for s in cluster if _alike(s.key, key, similarity)), None)
            if match is None:
                number, heading, _present = anchor
                match = Suggestion(by_pk[tree_id], after, heading, number, key)
                cluster.append(match)
            match.titles[custom["title"].strip()] += 1
            match.sessions.add(session_id)
            if user_id is not None:
                match.engineers.add(user_id)
            match.example = custom
    for (tree_id, after), cluster in groups.items():
        present = anchors[tree_id][after][2]
        for suggestion in cluster:
            if suggestion.runs < rules["min_runs"]:
                continue
            if len(suggestion.engineers) < rules["min_engineers"]:
                continue
            if any(_alike(suggestion.key, k, similarity) for k in dismissed.get(tree_id, [])):
                continue
            if any(_alike(suggestion.key, k, similarity) for k in present):
                continue  # the flow has such a step already (accepted, or added by hand)
            found[tree_id].append(suggestion)
    for items in found.values():
        items.sort(key=lambda s: (-s.runs, -len(s.engineers), s.after_number))
    return found


def suggestions_for_account(user: Any) -> list[Suggestion]:
    """Every suggestion for the flows this user's team owns (staff without a team: the
    default flows), for the "Needs review" page."""
    trees = list(
        Tree.objects.filter(
            account_id=user.account_id,
            status="published",
            is_active=True,
            tree_type__in=nodes.STEP_TREE_TYPES,
        ).only("id", "name", "tree_type", "tree_structure", "draft_structure", "account_id")
    )
    found = step_suggestions(trees)
    return [s for tree in trees for s in found[tree.pk]]
