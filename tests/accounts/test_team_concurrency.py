"""Two owners demoting each other at the same moment: one wins, the team keeps an owner."""

import threading

import pytest
from django.db import connections

from accounts import services
from accounts.models import Role, User
from tests.factories import AccountFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_leave_one_owner():
    account = AccountFactory()
    first = UserFactory(account=account, role=Role.OWNER)
    second = UserFactory(account=account, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor: User, member: User) -> None:
        try:
            barrier.wait()
            services.member_set_role(actor=actor, member=member, role=Role.ADMIN)
            outcomes.append("changed")
        except services.LastOwner:
            outcomes.append("last_owner")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["changed", "last_owner"]
    assert User.objects.filter(account=account, role=Role.OWNER).count() == 1
