"""One FilterSet for the flow library page and `/api/flows/`."""

import django_filters
from django.db.models import F, Q, QuerySet

from flows.models import Category, Tag, Tree, TreeStatus, TreeType
from resolutionflow import search as ranked_search

ORDERINGS = {
    "best": (F(ranked_search.RANK).desc(), "-usage_count", "name", "pk"),
    "popular": ("-usage_count", "name", "pk"),
    "name": ("name", "pk"),
    "recent": ("-updated_at", "pk"),
}
ORDERING_LABELS = {
    "best": "Best match",
    "popular": "Most used",
    "name": "Name",
    "recent": "Recent",
}


def visible_categories(request) -> QuerySet[Category]:
    """Only categories of flows this user can see: another team's names are theirs alone."""
    trees = Tree.objects.for_user(getattr(request, "user", None))
    return Category.objects.filter(trees__in=trees).distinct()


def visible_tags(request) -> QuerySet[Tag]:
    trees = Tree.objects.for_user(getattr(request, "user", None))
    return Tag.objects.filter(trees__in=trees).distinct()


class TreeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    tree_type = django_filters.ChoiceFilter(choices=TreeType.choices, label="Type")
    category = django_filters.ModelChoiceFilter(
        queryset=visible_categories, to_field_name="slug", empty_label="All categories"
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", queryset=visible_tags, to_field_name="slug", empty_label="All tags"
    )
    status = django_filters.ChoiceFilter(choices=TreeStatus.choices)
    is_active = django_filters.BooleanFilter()
    is_default = django_filters.BooleanFilter()
    is_fork = django_filters.BooleanFilter(method="filter_is_fork", label="Forks only")
    # Empty: best match while searching, else most used (a search ranks; a list does not).
    ordering = django_filters.ChoiceFilter(
        choices=list(ORDERING_LABELS.items()), method="order", empty_label="Best match"
    )

    class Meta:
        model = Tree
        fields = ["q", "tree_type", "category", "tag", "status", "is_active", "is_default"]

    def search(self, queryset: QuerySet[Tree], name: str, value: str) -> QuerySet[Tree]:
        """SQLite: every word in the name, description, category or a tag, name matches first.
        PostgreSQL ranks in `qs` (RankedResults), which needs the whole page."""
        words = ranked_search.search_words(value)
        if not words or ranked_search.is_postgres():
            return queryset
        tagged = Tree.tags.through.objects.values("tree_id")
        condition = Q()
        for word in words:
            condition &= (
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(category__name__icontains=word)
                | Q(pk__in=tagged.filter(tag__name__iexact=word))
            )
        rank = ranked_search.title_rank(words=words, title="name")
        return queryset.filter(condition).annotate(**{ranked_search.RANK: rank})

    def filter_is_fork(self, queryset: QuerySet[Tree], name: str, value: bool) -> QuerySet[Tree]:
        return queryset.filter(fork_depth__gt=0) if value else queryset.filter(fork_depth=0)

    def order(self, queryset: QuerySet[Tree], name: str, value: str) -> QuerySet[Tree]:
        return queryset  # applied in `qs`, which knows whether a search ranked the rows

    @property
    def qs(self) -> QuerySet[Tree] | ranked_search.RankedResults:
        """The filtered flows in the chosen order (see ranked_search.in_order)."""
        queryset = super().qs
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        return ranked_search.in_order(
            queryset,
            query=data.get("q") or "",
            chosen=data.get("ordering") or "best",
            orderings=ORDERINGS,
            title_field="name",
        )
