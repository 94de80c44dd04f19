"""One FilterSet for the flow library page and `/api/flows/`."""

import django_filters
from django.db.models import Q, QuerySet

from flows.models import Category, Tag, Tree, TreeStatus, TreeType

ORDERINGS = {
    "popular": ("-usage_count", "name"),
    "name": ("name",),
    "recent": ("-updated_at",),
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
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key.capitalize()) for key in ORDERINGS],
        method="order",
        empty_label="Most used",
    )

    class Meta:
        model = Tree
        fields = ["q", "tree_type", "category", "tag", "status", "is_active", "is_default"]

    def search(self, queryset: QuerySet[Tree], name: str, value: str) -> QuerySet[Tree]:
        for word in value.split()[:8]:
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(category__name__icontains=word)
                | Q(tags__name__iexact=word)
            )
        # A flow matching through two tags would otherwise appear twice.
        return queryset.distinct()

    def filter_is_fork(self, queryset: QuerySet[Tree], name: str, value: bool) -> QuerySet[Tree]:
        return queryset.filter(fork_depth__gt=0) if value else queryset.filter(fork_depth=0)

    def order(self, queryset: QuerySet[Tree], name: str, value: str) -> QuerySet[Tree]:
        return queryset.order_by(*ORDERINGS.get(value, ORDERINGS["popular"]))

    @property
    def qs(self) -> QuerySet[Tree]:
        queryset = super().qs
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*ORDERINGS["popular"])
        return queryset
