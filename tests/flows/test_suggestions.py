"""Custom steps proposed back to a flow's owners: thresholds, near-same titles, accept and
dismiss, the Needs review page, the flow page's panel and tenancy."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from flows import services
from flows.models import TreeType
from sessions import services as session_services
from sessions.models import FlowSession
from sessions.suggestions import step_suggestions
from tests.factories import TreeFactory, UserFactory


@pytest.fixture
def checklist(account, owner):
    return TreeFactory(
        name="Patch a server", account=account, author=owner, tree_type=TreeType.PROCEDURAL
    )


@pytest.fixture
def engineers(account):
    return [UserFactory(account=account, role="engineer") for _ in range(3)]


def add_custom(tree, user, title, after="patch"):
    run = session_services.session_start(tree=tree, user=user)
    session_services.session_custom_step_add(
        session=run, user=user, inserted_after=after, title=title, instructions="Run it."
    )
    return run


def suggestions_of(tree):
    return step_suggestions([tree])[tree.pk]


def test_three_runs_by_two_engineers_make_a_suggestion(checklist, engineers):
    a, b, _c = engineers
    add_custom(checklist, a, "Clear the print spooler")
    add_custom(checklist, a, "clear the print-spooler!")
    assert suggestions_of(checklist) == []  # two runs, one engineer
    add_custom(checklist, b, "Clear the print spooler")
    (found,) = suggestions_of(checklist)
    assert found.title == "Clear the print spooler"
    assert found.text == (
        "Add ‘Clear the print spooler’ after step 3 — added in 3 runs by 2 engineers"
    )


def test_below_either_threshold_there_is_no_suggestion(checklist, engineers):
    a, b, c = engineers
    add_custom(checklist, a, "Clear the print spooler")
    add_custom(checklist, b, "Clear the print spooler")
    assert suggestions_of(checklist) == []  # two runs by two engineers
    for _ in range(3):
        add_custom(checklist, c, "Restart the agent")
    assert suggestions_of(checklist) == []  # three runs, one engineer


def test_near_same_titles_count_together_and_other_places_do_not(checklist, engineers):
    a, b, c = engineers
    add_custom(checklist, a, "Clear the print spooler")
    add_custom(checklist, b, "Clear the print spooler queue")
    add_custom(checklist, c, "Check the disk space")
    add_custom(checklist, c, "Clear the print spooler", after="snapshot")
    # Two near-same at "patch" (a, b); c's steps are another title or another place.
    assert suggestions_of(checklist) == []
    add_custom(checklist, c, "Clear the print spoolers")
    (found,) = suggestions_of(checklist)
    assert (found.after_id, found.runs, len(found.engineers)) == ("patch", 3, 3)


def test_runs_older_than_the_window_do_not_count(checklist, engineers):
    a, b, _c = engineers
    old = [add_custom(checklist, user, "Clear the print spooler") for user in (a, b, a)]
    FlowSession.objects.filter(pk__in=[r.pk for r in old]).update(
        created_at=timezone.now() - timedelta(days=61)
    )
    assert suggestions_of(checklist) == []


def test_accept_inserts_into_the_working_copy_and_shows_a_diff(client, checklist, engineers, owner):
    for user in engineers:
        add_custom(checklist, user, "Clear the print spooler")
    (found,) = suggestions_of(checklist)
    client.force_login(owner)
    answer = client.post(
        reverse("analytics:suggestion-accept", args=[checklist.pk]),
        {"after": found.after_id, "key": found.key},
    )
    assert answer.status_code == 302 and "to=draft" in answer.url
    checklist.refresh_from_db()
    ids = [s["id"] for s in checklist.editing_structure["steps"]]
    assert ids == ["prep", "snapshot", "patch", "clear-the-print-spooler", "end"]
    assert checklist.tree_structure["steps"][3]["id"] == "end"  # live unchanged
    diff_page = client.get(answer.url).content.decode()
    assert 'data-node="clear-the-print-spooler" data-change="added"' in diff_page
    # Once the flow has the step, it is not proposed again.
    assert suggestions_of(checklist) == []


def test_dismiss_hides_the_title_for_good(client, checklist, engineers, owner):
    for user in engineers:
        add_custom(checklist, user, "Clear the print spooler")
    (found,) = suggestions_of(checklist)
    client.force_login(owner)
    client.post(
        reverse("analytics:suggestion-dismiss", args=[checklist.pk]),
        {"after": found.after_id, "key": found.key},
    )
    add_custom(checklist, engineers[0], "clear the print spooler")
    assert suggestions_of(checklist) == []


def test_needs_review_and_the_flow_page_show_suggestions(
    client, checklist, engineers, owner, django_assert_max_num_queries
):
    for user in engineers:
        add_custom(checklist, user, "Clear the print spooler")
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        review = client.get(reverse("analytics:review")).content.decode()
    assert "Add ‘Clear the print spooler’ after step 3 — added in 3 runs by 3 engineers" in review
    detail = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert reverse("analytics:suggestions", args=[checklist.pk]) in detail
    with django_assert_max_num_queries(8):
        panel = client.get(reverse("analytics:suggestions", args=[checklist.pk]))
    assert '<span class="badge text-bg-warning" id="suggestion-count">1</span>' in (
        panel.content.decode()
    )


def test_suggestions_are_404_for_other_accounts(client, checklist, engineers, outsider):
    for user in engineers:
        add_custom(checklist, user, "Clear the print spooler")
    (found,) = suggestions_of(checklist)
    client.force_login(outsider)
    assert client.get(reverse("analytics:suggestions", args=[checklist.pk])).status_code == 404
    for name in ("analytics:suggestion-accept", "analytics:suggestion-dismiss"):
        answer = client.post(
            reverse(name, args=[checklist.pk]), {"after": found.after_id, "key": found.key}
        )
        assert answer.status_code == 404
    assert "Clear the print spooler" not in client.get(reverse("analytics:review")).content.decode()
    assert len(suggestions_of(checklist)) == 1


def test_tree_step_insert_refuses_a_missing_anchor(checklist, owner):
    with pytest.raises(Exception, match="no step"):
        services.tree_step_insert(tree=checklist, user=owner, after_id="gone", title="X")
