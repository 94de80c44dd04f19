"""Issue 11: the batch status page at scale. The revision moves with every change a watcher
would see (and not otherwise), the cards render once per revision and come from the cache,
a matching If-None-Match answers 304 cheaply, responses are gzipped, and big batches get
state chips, a search and a collapsed completed section."""

from __future__ import annotations

import gzip
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

from flows.models import TreeStatus
from sessions import services
from sessions.models import Batch, FlowSession, SessionStatus
from tests.factories import TreeFactory, UserFactory
from tests.sessions.test_batches import HTMX, launch, mnt_flow, status_url

__all__ = ["mnt_flow"]  # the fixture, shared with test_batches


def revision(batch: Batch) -> int:
    return Batch.objects.values_list("revision", flat=True).get(pk=batch.pk)


@pytest.fixture
def rendered():
    """Names of the templates rendered while the test runs."""
    names: list[str] = []

    def record(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


# --- the revision -----------------------------------------------------------------------


def test_revision_moves_on_every_change_a_watcher_sees(mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    a = batch.sessions.get(target_label="A")
    assert revision(batch) == 0
    steps = [
        lambda s: services.batch_session_start(session=s, user=engineer),
        lambda s: services.session_step_update(
            session=s, user=engineer, step_id="snapshot", done=True
        ),
        lambda s: services.session_step_update(
            session=s, user=engineer, step_id="snapshot", done=False
        ),
        lambda s: services.session_step_update(
            session=s, user=engineer, step_id="patch", note="rebooted twice"
        ),
        lambda s: services.session_custom_step_add(
            session=s, user=engineer, inserted_after="snapshot", title="Check DNS"
        )[0],
        lambda s: services.session_custom_step_remove(
            session=s, user=engineer, custom_id=s.custom_steps[0]["id"]
        ),
        lambda s: services.session_complete(session=s, user=engineer, outcome="resolved"),
    ]
    for number, step in enumerate(steps, start=1):
        a = step(FlowSession.objects.get(pk=a.pk))
        assert revision(batch) == number


def test_revision_stays_on_refusals_no_ops_and_unrelated_writes(
    mnt_flow, engineer, owner, proc_session
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    other = launch(mnt_flow, engineer, ["X"])
    a = services.batch_session_start(session=batch.sessions.get(target_label="A"), user=engineer)
    services.session_step_update(session=a, user=engineer, step_id="snapshot", done=True)
    before = revision(batch)

    refused = [
        (services.SessionError, dict(user=engineer, step_id="nope", done=True)),
        (PermissionDenied, dict(user=owner, step_id="snapshot", done=False)),
    ]
    for error, kwargs in refused:
        with pytest.raises(error):
            services.session_step_update(session=a, **kwargs)
    with pytest.raises(services.SessionTaken):
        services.batch_session_start(session=a, user=owner)
    # Ticking what is already ticked changes nothing a watcher sees.
    services.session_step_update(session=a, user=engineer, step_id="snapshot", done=True)
    # Writes elsewhere: another batch, a session outside any batch, feedback, export marks.
    services.batch_session_start(session=other.sessions.get(), user=engineer)
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", done=True)
    services.session_feedback_set(session=a, user=engineer, node_id="snapshot", helpful=True)
    services.session_mark_exported(session=a, user=engineer)
    assert revision(batch) == before

    done = services.session_complete(session=a, user=engineer, outcome="resolved")
    with pytest.raises(services.SessionClosed):
        services.session_step_update(session=done, user=engineer, step_id="patch", done=True)
    services.session_rate(session=done, user=engineer, rating=5)  # not on the status page
    assert revision(batch) == before + 1
    assert revision(other) == 1


# --- render once, 304, gzip ---------------------------------------------------------------


def test_unchanged_poll_answers_304_in_three_queries_without_rendering(
    client, engineer, mnt_flow, rendered, django_assert_max_num_queries
):
    batch = launch(mnt_flow, engineer, [f"srv{i:03}" for i in range(50)])
    client.force_login(engineer)
    page = client.get(status_url(batch))
    etag = re.search(r'data-etag="(&quot;|")([0-9a-f]+)', page.content.decode()).group(2)
    first = client.get(status_url(batch), **HTMX)
    assert first["ETag"] == f'"{etag}"' and "private" in first["Cache-Control"]
    rendered.clear()
    with django_assert_max_num_queries(3):
        again = client.get(status_url(batch), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert rendered == []

    services.batch_session_start(session=batch.sessions.get(target_label="srv007"), user=engineer)
    changed = client.get(status_url(batch), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "1 in progress" in changed.content.decode()


def test_cards_render_once_per_revision_for_every_watcher(
    client, engineer, owner, viewer, mnt_flow, rendered
):
    batch = launch(mnt_flow, engineer, ["A", "B", "C"])
    watchers = [engineer, owner, viewer] + [
        UserFactory(email=f"w{i}@acme.test", account=engineer.account) for i in range(3)
    ]
    bodies = set()
    for watcher in watchers:
        client.force_login(watcher)
        bodies.add(client.get(status_url(batch), **HTMX).content)
    assert len(bodies) == 1
    assert rendered.count("flowsessions/_batch_cards.html") == 1

    services.batch_session_start(session=batch.sessions.get(target_label="B"), user=owner)
    for watcher in watchers:
        client.force_login(watcher)
        assert "1 in progress" in client.get(status_url(batch), **HTMX).content.decode()
    assert rendered.count("flowsessions/_batch_cards.html") == 2


def test_your_own_running_target_says_resume_everyone_else_sees_view(
    client, engineer, owner, mnt_flow
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    a = services.batch_session_start(session=batch.sessions.get(target_label="A"), user=engineer)
    run, detail = (
        reverse("sessions:run", args=[a.pk]),
        reverse("sessions:detail", args=[a.pk]),
    )
    client.force_login(engineer)
    mine = client.get(status_url(batch), **HTMX)
    body = mine.content.decode()
    assert f'href="{run}">Resume</a>' in body and f'href="{detail}"' not in body
    client.force_login(owner)
    theirs = client.get(status_url(batch), **HTMX)
    body = theirs.content.decode()
    assert f'href="{detail}">View</a>' in body and run not in body
    assert mine["ETag"] != theirs["ETag"]  # a 304 never hands one the other's buttons


def test_the_cached_partial_holds_no_secret_and_no_other_watcher(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(engineer)
    body = client.get(status_url(batch), **HTMX).content.decode()
    assert "csrfmiddlewaretoken" not in body and "csrf" not in body.lower()
    assert engineer.email not in body
    start = reverse(
        "batches:target-start",
        args=[mnt_flow.pk, batch.pk, batch.sessions.get(target_label="A").pk],
    )
    assert f'hx-post="{start}"' in body


@pytest.mark.parametrize("warm", [True, False])
def test_outsider_gets_404_even_when_the_cache_is_warm(
    client, engineer, outsider, staff, mnt_flow, warm, rendered
):
    batch = launch(mnt_flow, engineer, ["A"])
    client.force_login(engineer)
    ours = client.get(status_url(batch), **HTMX)
    if not warm:
        cache.clear()
    client.force_login(outsider)
    for headers in ({}, {"HTTP_IF_NONE_MATCH": ours["ETag"]}):
        assert client.get(status_url(batch), **headers, **HTMX).status_code == 404
        assert client.get(status_url(batch), **headers).status_code == 404
    # The batch under another flow's URL is not found either, even for staff.
    elsewhere = TreeFactory(account=engineer.account, author=engineer, tree_type="maintenance")
    client.force_login(staff)
    assert (
        client.get(reverse("batches:detail", args=[elsewhere.pk, batch.pk]), **HTMX).status_code
        == 404
    )
    assert client.get(status_url(batch), **HTMX).status_code == 200


def test_polls_are_gzipped_when_the_browser_accepts_it(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, [f"srv{i:03}" for i in range(20)])
    client.force_login(engineer)
    plain = client.get(status_url(batch), **HTMX)
    packed = client.get(status_url(batch), HTTP_ACCEPT_ENCODING="gzip, br", **HTMX)
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 4
    assert "Content-Encoding" not in plain


def make_big_batch(flow, user, helpers, size=1000):
    """1,000 targets: 300 complete (mixed outcomes, several engineers), 300 running, 400 not
    started; states written directly, as a day of work would leave them."""
    batch = launch(flow, user, [f"rds-host-{i:04}.corp.example.net" for i in range(size)])
    ids = list(batch.sessions.order_by("target_label").values_list("pk", flat=True))
    now = timezone.now()
    outcomes = ["resolved"] * 5 + ["escalated", "workaround", "unresolved"]
    for n, pk in enumerate(ids[: size * 3 // 10]):
        FlowSession.objects.filter(pk=pk).update(
            status=SessionStatus.COMPLETED,
            outcome=outcomes[n % len(outcomes)],
            user=helpers[n % len(helpers)],
            started_at=now - timezone.timedelta(minutes=10 + n % 50),
            completed_at=now,
        )
    for n, pk in enumerate(ids[size * 3 // 10 : size * 6 // 10]):
        FlowSession.objects.filter(pk=pk).update(
            status=SessionStatus.IN_PROGRESS, user=helpers[n % len(helpers)], started_at=now
        )
    services.bump_batch_revision(batch.pk)
    return batch


@pytest.fixture
def helpers(account):
    return [
        UserFactory(email=f"eng{i}@acme.test", account=account, full_name=f"Engineer {i}")
        for i in range(10)
    ]


def test_a_1000_target_poll_is_at_most_60_kb_gzipped(
    client, engineer, mnt_flow, helpers, django_assert_max_num_queries
):
    batch = make_big_batch(mnt_flow, engineer, helpers)
    client.force_login(helpers[0])
    with django_assert_max_num_queries(6):
        response = client.get(status_url(batch), HTTP_ACCEPT_ENCODING="gzip", **HTMX)
    body = gzip.decompress(response.content).decode()
    assert body.count('class="card target-card') == 1000
    assert len(response.content) <= 60_000, len(response.content)
    print(f"1,000-target poll: {len(body):,} bytes, {len(response.content):,} gzipped")
    # Completed targets sit in a closed section by default.
    assert '<details id="batch-done" class="mt-2">' in body
    assert "Completed targets (300)" in body


def test_chips_count_each_state_and_filter(client, engineer, mnt_flow, helpers):
    batch = make_big_batch(mnt_flow, engineer, helpers, size=40)
    client.force_login(engineer)
    body = client.get(status_url(batch), **HTMX).content.decode()
    chips = dict(
        re.findall(r'data-chip="([a-z_]+)"[^>]*>[^<]+<span class="chip-count">(\d+)', body)
    )
    assert chips == {
        "all": "40",
        "not_started": "16",
        "in_progress": "12",
        "resolved": "9",
        "escalated": "1",
        "workaround": "1",
        "unresolved": "1",
    }
    running = client.get(status_url(batch) + "?state=in_progress", **HTMX).content.decode()
    assert running.count('data-state="in_progress"') == 12 and "12 of 40 targets shown" in running
    assert (
        'aria-current="true"' in running
        and 'hx-get="' + status_url(batch) + '?state=in_progress"' in running
    )
    escalated = client.get(status_url(batch) + "?state=escalated", **HTMX).content.decode()
    assert escalated.count('class="card target-card') == 1
    assert '<details id="batch-done" class="mt-2" open>' in escalated
    junk = client.get(status_url(batch) + "?state=<b>", **HTMX).content.decode()
    assert junk.count('class="card target-card') == 40


def test_search_narrows_the_cards_and_keeps_the_chip(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["web-01", "web-02", "db-01", "DB-02"])
    services.batch_session_start(session=batch.sessions.get(target_label="db-01"), user=engineer)
    client.force_login(engineer)
    found = client.get(status_url(batch) + "?q=+DB+", **HTMX).content.decode()
    labels = re.findall(r'data-target="([^"]+)"', found)
    assert sorted(labels) == ["DB-02", "db-01"] and "2 of 4 targets shown matching “DB”" in found
    assert 'hx-get="' + status_url(batch) + '?q=DB"' in found  # the poll keeps the search
    both = client.get(status_url(batch) + "?q=db&state=not_started", **HTMX).content.decode()
    assert re.findall(r'data-target="([^"]+)"', both) == ["DB-02"]
    none = client.get(status_url(batch) + "?q=zzz", **HTMX).content.decode()
    assert "No targets match." in none
    page = client.get(status_url(batch) + "?q=web").content.decode()
    assert 'value="web"' in page and re.findall(r'data-target="([^"]+)"', page) == [
        "web-01",
        "web-02",
    ]


def test_start_through_htmx_redirects_to_the_runner_or_toasts_who_has_it(
    client, engineer, owner, mnt_flow
):
    batch = launch(mnt_flow, engineer, ["A"])
    session = batch.sessions.get()
    start = reverse("batches:target-start", args=[mnt_flow.pk, batch.pk, session.pk])
    client.force_login(engineer)
    response = client.post(start, **HTMX)
    assert response["HX-Redirect"] == reverse("sessions:run", args=[session.pk])
    client.force_login(owner)
    taken = client.post(start, **HTMX)
    assert taken.status_code == 204 and "already started A" in taken["HX-Trigger"]


def test_launching_1000_targets_is_one_transaction_in_constant_queries(
    mnt_flow, engineer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        batch = launch(mnt_flow, engineer, [f"srv{i:04}" for i in range(1000)])
    assert batch.sessions.count() == 1000
    with pytest.raises(Exception):  # noqa: B017 — any failure inside rolls the whole launch back
        launch(mnt_flow, engineer, [f"x{i}" for i in range(999)] + ["a" * 201])
    assert Batch.objects.count() == 1


def test_a_viewer_cannot_watch_a_batch_of_a_flow_back_in_draft(client, engineer, viewer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A"])
    client.force_login(viewer)
    assert client.get(status_url(batch), **HTMX).status_code == 200
    mnt_flow.status = TreeStatus.DRAFT
    mnt_flow.save()
    assert client.get(status_url(batch), **HTMX).status_code == 404
    assert client.get(status_url(batch)).status_code == 404
    client.force_login(engineer)  # engineers see their team's drafts
    assert client.get(status_url(batch), **HTMX).status_code == 200


# --- the poll's cost: tenancy and revision from the cache (sessions/batch_live.py) -------------


def batch_sql(queries) -> list[str]:
    return [
        q["sql"] for q in queries if "flow_sessions_batch" in q["sql"] or "flows_tree" in q["sql"]
    ]


@pytest.mark.parametrize("unchanged", [True, False], ids=["304", "200"])
def test_a_warm_poll_reads_only_the_login_from_the_database(
    client, viewer, engineer, mnt_flow, rendered, unchanged
):
    """Session and user (the login, checked on every request); the batch's revision and the
    flow's visibility come from the cache, the cards too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = launch(mnt_flow, engineer, [f"srv{i:03}" for i in range(30)])
    client.force_login(viewer)
    first = client.get(status_url(batch), **HTMX)
    headers = {"HTTP_IF_NONE_MATCH": first["ETag"]} if unchanged else {}
    rendered.clear()
    with CaptureQueriesContext(connection) as queries:
        again = client.get(status_url(batch), **headers, **HTMX)
    assert again.status_code == (304 if unchanged else 200)
    assert len(queries) == 2, [q["sql"] for q in queries]  # django_session, accounts_user
    assert batch_sql(queries.captured_queries) == []
    assert rendered == []
    if not unchanged:
        assert again.content == first.content


def test_a_change_is_seen_by_the_next_poll_although_the_revision_was_cached(
    client, viewer, engineer, mnt_flow
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(viewer)
    first = client.get(status_url(batch), **HTMX)
    assert "1 in progress" not in first.content.decode()
    services.batch_session_start(session=batch.sessions.get(target_label="A"), user=engineer)
    again = client.get(status_url(batch), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 200 and "1 in progress" in again.content.decode()


def test_a_deactivated_watcher_loses_the_poll_at_once_even_with_a_warm_cache(
    client, viewer, engineer, mnt_flow
):
    """Nothing about the user is cached: the login is read on every poll."""
    batch = launch(mnt_flow, engineer, ["A"])
    client.force_login(viewer)
    first = client.get(status_url(batch), **HTMX)
    assert first.status_code == 200
    viewer.is_active = False
    viewer.save()
    for headers in ({}, {"HTTP_IF_NONE_MATCH": first["ETag"]}):
        gone = client.get(status_url(batch), **headers, **HTMX)
        assert gone.status_code == 302 and "/accounts/login/" in gone["Location"]


def test_a_batch_under_another_flows_url_is_not_found_with_a_warm_cache(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A"])
    client.force_login(engineer)
    assert client.get(status_url(batch), **HTMX).status_code == 200  # the cache is warm
    elsewhere = TreeFactory(account=engineer.account, author=engineer, tree_type="maintenance")
    url = reverse("batches:detail", args=[elsewhere.pk, batch.pk])
    assert client.get(url, **HTMX).status_code == 404
    assert client.get(url).status_code == 404


def test_while_one_request_renders_a_revision_the_others_get_the_newest_cards_rendered(
    client, viewer, engineer, mnt_flow, rendered
):
    from sessions import batch_live
    from sessions.selectors import CardFilter

    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(viewer)
    first = client.get(status_url(batch), **HTMX)
    services.batch_session_start(session=batch.sessions.get(target_label="A"), user=engineer)
    key = batch_live.cards_key(batch.pk, revision(batch), CardFilter())
    cache.add(f"{key}:rendering", 1, 10)  # another worker is rendering the new revision
    rendered.clear()
    meanwhile = client.get(status_url(batch), **HTMX)
    assert rendered == []
    assert meanwhile.content == first.content and meanwhile["ETag"] == first["ETag"]
    again = client.get(status_url(batch), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304  # still the old cards: nothing to swap
    cache.delete(f"{key}:rendering")  # the render finished (here: nobody did it)
    done = client.get(status_url(batch), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert done.status_code == 200 and "1 in progress" in done.content.decode()
    assert done["ETag"] != first["ETag"]


def test_the_resume_variant_is_made_once_per_revision_and_engineer(
    client, engineer, mnt_flow, monkeypatch
):
    from sessions import batch_live

    batch = launch(mnt_flow, engineer, ["A", "B"])
    services.batch_session_start(session=batch.sessions.get(target_label="A"), user=engineer)
    client.force_login(engineer)
    packed = {"HTTP_ACCEPT_ENCODING": "gzip"}
    first = client.get(status_url(batch), **packed, **HTMX)
    made = []
    monkeypatch.setattr(batch_live, "personalised", lambda *a: made.append(a) or "changed")
    again = client.get(status_url(batch), **packed, **HTMX)
    assert made == []
    assert again.content == first.content
    assert "Resume</a>" in gzip.decompress(again.content).decode()


def test_the_redis_cache_reuses_one_client_per_connection_pool():
    from resolutionflow.cache import RedisCache

    backend = RedisCache("redis://127.0.0.1:6399/0", {})  # never connected: no Redis needed
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client
