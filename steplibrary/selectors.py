"""Shared reads on the library: what its pages and the embeddable browser show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import User
from flows.models import Category, Tag, Tree
from steplibrary.models import LibraryStep, LibraryStepQuerySet


def visible_steps(*, user: User) -> LibraryStepQuerySet:
    return LibraryStep.objects.for_user(user).with_card_data()


@dataclass
class FilterChoices:
    """The options of the filter selects: only what the user's visible entries use, so no
    other team's category, tag or flow name ever appears in a list."""

    categories: QuerySet[Category]
    tags: QuerySet[Tag]
    source_flows: QuerySet[Tree]


def filter_choices(*, user: User) -> FilterChoices:
    visible = LibraryStep.objects.for_user(user).active()
    synced = visible.filter(is_flow_synced=True)
    flows = Tree.objects.for_user(user).filter(pk__in=synced.values("source_tree"))
    return FilterChoices(
        categories=Category.objects.filter(
            Q(pk__in=visible.filter(is_flow_synced=False).values("category"))
            | Q(pk__in=flows.values("category"))
        ).order_by("name"),
        tags=Tag.objects.filter(
            Q(pk__in=visible.filter(is_flow_synced=False).values("tags"))
            | Q(pk__in=flows.values("tags"))
        ).order_by("name"),
        source_flows=flows.order_by("name").only("id", "name"),
    )
