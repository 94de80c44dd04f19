"""One FilterSet for the session history page and `/api/sessions/`."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import User
from flows.models import Tree
from sessions.models import FlowSession, Outcome, SessionStatus


def account_members(request) -> QuerySet[User]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.account_id is None:
        return User.objects.none()
    return User.objects.filter(account_id=user.account_id, is_service_account=False)


def runnable_trees(request) -> QuerySet[Tree]:
    user = getattr(request, "user", None)
    return Tree.objects.for_user(user).only("id", "name") if user else Tree.objects.none()


class SessionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    flow = django_filters.ModelChoiceFilter(
        field_name="tree", queryset=runnable_trees, empty_label="All flows"
    )
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices, empty_label="Any status")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, empty_label="Any outcome")
    user = django_filters.ModelChoiceFilter(queryset=account_members, empty_label="Anyone")
    batch_id = django_filters.UUIDFilter(field_name="batch_id")
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = FlowSession
        fields = ["q", "flow", "status", "outcome", "user", "batch_id", "date_from", "date_to"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split()[:6]:
            queryset = queryset.filter(
                Q(ticket_number__icontains=word)
                | Q(client_name__icontains=word)
                | Q(target_label__icontains=word)
                | Q(tree_name__icontains=word)
            )
        return queryset
