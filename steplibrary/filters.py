"""One FilterSet for the library page, the embeddable browser and `/api/steps/`."""

from __future__ import annotations

import django_filters
from django.db.models import F, Q, QuerySet

from flows.models import Category, Tag
from resolutionflow import search as ranked_search
from steplibrary.models import LibraryStep, StepType, Visibility

ORDERINGS = {
    "best": (F(ranked_search.RANK).desc(), "-usage_count", "title", "pk"),
    "popular": ("-usage_count", "title", "pk"),
    "helpful": ("-helpful_yes", "helpful_no", "title", "pk"),
    "title": ("title", "pk"),
    "recent": ("-updated_at", "pk"),
}
ORDERING_LABELS = {
    "best": "Best match",
    "popular": "Most used",
    "helpful": "Most helpful",
    "title": "Title",
    "recent": "Recently changed",
}


class LibraryStepFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    step_type = django_filters.ChoiceFilter(choices=StepType.choices, label="Type")
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    # Synced entries wear their flow's category and tags, so both filters look there too.
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        to_field_name="slug",
        method="filter_category",
        empty_label="All categories",
    )
    tag = django_filters.ModelChoiceFilter(
        queryset=Tag.objects.all(),
        to_field_name="slug",
        method="filter_tag",
        empty_label="All tags",
    )
    synced = django_filters.BooleanFilter(
        field_name="is_flow_synced", label="From flows (true) or hand-made (false)"
    )
    source_tree = django_filters.UUIDFilter(label="Source flow id")
    is_active = django_filters.BooleanFilter(label="Active (default true)")
    # Empty: best match while searching, else most used (a search ranks; a list does not).
    ordering = django_filters.ChoiceFilter(
        choices=list(ORDERING_LABELS.items()), method="order", empty_label="Best match"
    )

    class Meta:
        model = LibraryStep
        fields = ["q", "step_type", "visibility", "category", "tag", "synced", "source_tree"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """SQLite: every word in the title, instructions, help text or commands, title matches
        first. PostgreSQL ranks in `qs` (RankedResults), which needs the whole page."""
        words = ranked_search.search_words(value)
        if not words or ranked_search.is_postgres():
            return queryset
        for word in words:
            queryset = queryset.filter(search_text__contains=word)
        return queryset.annotate(
            **{ranked_search.RANK: ranked_search.title_rank(words=words, title="title")}
        )

    def filter_category(self, queryset: QuerySet, name: str, value: Category) -> QuerySet:
        return queryset.filter(
            Q(is_flow_synced=False, category=value)
            | Q(is_flow_synced=True, source_tree__category=value)
        )

    def filter_tag(self, queryset: QuerySet, name: str, value: Tag) -> QuerySet:
        # Subqueries rather than joins: no duplicate rows, so no DISTINCT over JSON columns.
        own = LibraryStep.tags.through.objects.filter(tag=value).values("librarystep_id")
        of_flow = Tag.trees.through.objects.filter(tag=value).values("tree_id")
        return queryset.filter(
            Q(is_flow_synced=False, pk__in=own) | Q(is_flow_synced=True, source_tree__in=of_flow)
        )

    def order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied in `qs`, which knows whether a search ranked the rows

    @property
    def qs(self) -> QuerySet | ranked_search.RankedResults:
        """The filtered entries in the chosen order (see ranked_search.in_order)."""
        queryset = super().qs
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        if data.get("is_active") is None:
            queryset = queryset.filter(is_active=True)  # retired flows' steps stay out of sight
        return ranked_search.in_order(
            queryset,
            query=data.get("q") or "",
            chosen=data.get("ordering") or "best",
            orderings=ORDERINGS,
            title_field="title",
        )
