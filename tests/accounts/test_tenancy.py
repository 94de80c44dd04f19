"""The one tenancy rule (accounts/querysets.py): the SQL filter and its in-Python twin agree."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.querysets import NO_ROWS, q_matches
from accounts.services import service_account_ensure
from flows.models import Tree, TreeStatus
from sessions.models import TargetList
from tests.factories import TreeFactory, UserFactory


@pytest.fixture
def flows(account, other_account):
    return [
        TreeFactory(account=account, status=TreeStatus.PUBLISHED),
        TreeFactory(account=account, status=TreeStatus.DRAFT),
        TreeFactory(account=other_account, status=TreeStatus.PUBLISHED),
        TreeFactory(account=other_account, status=TreeStatus.PUBLISHED, is_public=True),
        TreeFactory(account=other_account, status=TreeStatus.DRAFT, is_public=True),
    ]


def test_allows_agrees_with_for_user_for_every_kind_of_user(
    flows, owner, engineer, viewer, outsider, staff
):
    loner = UserFactory(account=None)
    people = [owner, engineer, viewer, outsider, staff, loner, AnonymousUser()]
    people.append(service_account_ensure())
    for user in people:
        visible = set(Tree.objects.for_user(user).filter(pk__in=[t.pk for t in flows]))
        assert {t for t in flows if Tree.objects.allows(t, user)} == visible, user
    # Spot checks, so agreement is not agreement on nothing.
    assert Tree.objects.allows(flows[1], engineer)
    assert not Tree.objects.allows(flows[1], viewer)
    assert Tree.objects.allows(flows[3], loner)
    assert not Tree.objects.allows(flows[4], owner)  # a public draft of another MSP
    assert all(Tree.objects.allows(t, staff) for t in flows)


def test_the_default_filter_is_the_users_account(account, other_account, engineer, staff):
    mine = TargetList.objects.create(account=account, name="Ours")
    TargetList.objects.create(account=other_account, name="Theirs")
    assert list(TargetList.objects.for_user(engineer)) == [mine]
    assert TargetList.objects.for_user(staff).count() == 2
    assert not TargetList.objects.for_user(UserFactory(account=None)).exists()
    assert not TargetList.objects.for_user(AnonymousUser()).exists()


def test_q_matches_evaluates_and_or_not_and_refuses_what_it_cannot(account):
    flow = TreeFactory.build(account=account, is_public=False, status=TreeStatus.PUBLISHED)
    assert q_matches(Q(is_public=False) & Q(status="published"), flow)
    assert q_matches(Q(is_public=True) | Q(account_id=account.pk), flow)
    assert not q_matches(~Q(status="published"), flow)
    assert q_matches(Q(status__in=["draft", "published"]), flow)
    assert not q_matches(NO_ROWS, flow)
    with pytest.raises(ValueError):
        q_matches(Q(name__icontains="x"), flow)
