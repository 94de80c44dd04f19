import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from flows.models import TreeStatus, TreeType
from sessions import selectors, services
from sessions.models import Batch, FlowSession, SessionStatus, TargetList
from tests.conftest import api_as
from tests.factories import TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def mnt_flow(account, owner):
    return TreeFactory(
        name="Patch RDS hosts",
        account=account,
        author=owner,
        tree_type=TreeType.MAINTENANCE,
        intake_form=[{"name": "change", "label": "Change", "type": "text", "required": True}],
    )


def launch(flow, user, labels, **kw):
    return services.batch_launch(
        tree=flow, user=user, targets=labels, variables={"change": "CHG1"}, **kw
    )


def status_url(batch) -> str:
    return reverse("batches:detail", args=[batch.tree_id, batch.pk])


def complete(session, user, outcome="resolved"):
    session = services.batch_session_start(session=session, user=user)
    return services.session_complete(session=session, user=user, outcome=outcome)


# --- services ---------------------------------------------------------------------------


def test_launch_creates_one_pending_session_per_target(mnt_flow, engineer):
    batch = launch(
        mnt_flow, engineer, [" RDS-01 ", "RDS-02", "", {"label": "RDS-03", "notes": "x"}]
    )
    sessions = list(batch.sessions.order_by("target_label"))
    assert [s.target_label for s in sessions] == ["RDS-01", "RDS-02", "RDS-03"]
    assert all(s.status == SessionStatus.PENDING and s.user is None for s in sessions)
    assert sessions[0].variables == {"change": "CHG1", "target": "RDS-01"}
    mnt_flow.refresh_from_db()
    assert mnt_flow.usage_count == 0  # counted when a target starts


@pytest.mark.parametrize(
    "labels, change, error",
    [
        ([], {}, ValidationError),
        (["a", "A "], {}, ValidationError),
        ([f"srv{i}" for i in range(1001)], {}, ValidationError),
        (["a"], {"tree_type": TreeType.PROCEDURAL}, services.SessionError),
        (["a"], {"status": TreeStatus.DRAFT}, services.SessionError),
        (["a"], {"is_active": False}, services.SessionError),
    ],
    ids=["no-targets", "duplicates", "too-many", "not-maintenance", "draft", "retired"],
)
def test_launch_refusals_create_nothing(mnt_flow, engineer, labels, change, error):
    for name, value in change.items():
        setattr(mnt_flow, name, value)
    mnt_flow.save()
    with pytest.raises(error):
        launch(mnt_flow, engineer, labels)
    assert not Batch.objects.exists() and not FlowSession.objects.exists()


def test_launch_needs_intake_answers_and_an_engineer(mnt_flow, engineer, viewer):
    with pytest.raises(ValidationError):
        services.batch_launch(tree=mnt_flow, user=engineer, targets=["a"])
    with pytest.raises(PermissionDenied):
        launch(mnt_flow, viewer, ["a"])


def test_target_label_fills_the_target_variable_in_default_flows(engineer):
    from flows.default_content import default_flows_load
    from flows.models import Tree
    from sessions import runtime

    default_flows_load()
    tree = Tree.objects.get(default_key="citrix-vda-server-patching")
    variables = {f["name"]: (f.get("options") or ["x"])[0] for f in tree.intake_form}
    batch = services.batch_launch(
        tree=tree, user=engineer, targets=["CTX-VDA-07"], variables=variables
    )
    session = services.batch_session_start(session=batch.sessions.get(), user=engineer)
    code = " ".join(c["code"] for row in runtime.checklist(session) for c in row.commands)
    assert "CTX-VDA-07" in code and "[VAR:target]" not in code


def test_export_of_a_batch_session_names_the_target_once(mnt_flow, engineer):
    from sessions import exports

    batch = launch(mnt_flow, engineer, ["RDS-07"])
    session = services.batch_session_start(session=batch.sessions.get(), user=engineer)
    text = exports.export_session(session, fmt="psa")
    assert text.count("RDS-07") == 1 and "Target: RDS-07" in text


def test_launch_from_a_saved_list(mnt_flow, engineer):
    saved = services.target_list_save(
        user=engineer, name="RDS", targets=services.targets_parse("RDS-01\nRDS-02 | rack 3")
    )
    batch = launch(mnt_flow, engineer, None, target_list=saved)
    assert batch.target_list == saved and batch.sessions.count() == 2


def test_start_resume_and_taken(mnt_flow, engineer, owner):
    batch = launch(mnt_flow, engineer, ["RDS-01"])
    session = batch.sessions.get()
    started = services.batch_session_start(session=session, user=engineer)
    assert started.status == SessionStatus.IN_PROGRESS and started.user == engineer
    again = services.batch_session_start(session=session, user=engineer)
    assert again.started_at == started.started_at  # resuming, not restarting
    with pytest.raises(services.SessionTaken, match="already started RDS-01"):
        services.batch_session_start(session=session, user=owner)
    mnt_flow.refresh_from_db()
    assert mnt_flow.usage_count == 1


@pytest.mark.django_db(transaction=True)
def test_many_people_pressing_start_at_once_start_it_once(account, owner):
    from tests.factories import UserFactory

    flow = TreeFactory(account=account, author=owner, tree_type=TreeType.MAINTENANCE)
    people = [UserFactory(account=account) for _ in range(8)]
    session = services.batch_launch(tree=flow, user=owner, targets=["RDS-01"]).sessions.get()
    barrier = threading.Barrier(len(people))
    winners, taken, errors = [], [], []

    def press(user):
        try:
            barrier.wait(timeout=10)
            services.batch_session_start(session=session, user=user)
            winners.append(user)
        except services.SessionTaken:
            taken.append(user)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(winners) == 1 and len(taken) == len(people) - 1
    session.refresh_from_db()
    assert session.user == winners[0]
    flow.refresh_from_db()
    assert flow.usage_count == 1


def test_status_progress_and_summary(mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A", "B", "C", "D"])
    a, b, c, _ = batch.sessions.order_by("target_label")
    complete(a, engineer)
    complete(b, engineer, "escalated")
    started = services.batch_session_start(session=c, user=engineer)
    services.session_step_update(session=started, user=engineer, step_id="snapshot", done=True)
    status = selectors.batch_status(batch)
    assert (status.complete, status.in_progress, status.total, status.percent) == (2, 1, 4, 50)
    assert status.summary == "1 resolved · 1 escalated · 1 in progress · 1 not started"
    card = next(card for card in status.cards if card.session.target_label == "C")
    assert (card.step, card.steps) == (2, 2)
    assert not status.finished


# --- pages ------------------------------------------------------------------------------


def test_launch_page_lands_on_the_status_page(client, engineer, mnt_flow):
    client.force_login(engineer)
    response = client.post(
        reverse("batches:launch", args=[mnt_flow.pk]),
        {"targets_text": "RDS-01\nRDS-02\n\nRDS-03", "ticket_number": "CHG-9", "var_change": "C1"},
    )
    batch = Batch.objects.get()
    assert response["Location"] == status_url(batch)
    assert batch.sessions.count() == 3 and batch.ticket_number == "CHG-9"


def test_launch_form_errors_are_shown_next_to_the_fields(client, engineer, mnt_flow):
    client.force_login(engineer)
    response = client.post(
        reverse("batches:launch", args=[mnt_flow.pk]),
        {"targets_text": "A\na", "var_change": "x"},
        **HTMX,
    )
    body = response.content.decode()
    assert "Duplicate targets" in body and 'id="id_targets_text"' in body and "is-invalid" in body
    assert not Batch.objects.exists()


def test_status_partial_polls_until_finished_then_answers_286(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(engineer)
    page = client.get(status_url(batch)).content.decode()
    assert 'hx-trigger="every 5s"' in page
    partial = client.get(status_url(batch), **HTMX)
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "0 of 2 complete" in partial.content.decode()
    for session in batch.sessions.all():
        complete(session, engineer)
    done = client.get(status_url(batch), **HTMX)
    body = done.content.decode()
    assert done.status_code == 286
    assert "every 5s" not in body and 'id="batch-summary"' in body and "2 resolved" in body


def test_start_button_lands_on_the_runner_or_says_who_has_it(client, engineer, owner, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A"])
    session = batch.sessions.get()
    start = reverse("batches:target-start", args=[mnt_flow.pk, batch.pk, session.pk])
    client.force_login(engineer)
    assert client.post(start)["Location"] == reverse("sessions:run", args=[session.pk])
    client.force_login(owner)
    response = client.post(start, follow=True)
    assert "already started A" in response.content.decode()
    assert FlowSession.objects.count() == 1


def test_runner_shows_the_context_strip_and_completion_returns_to_the_batch(
    client, engineer, mnt_flow
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    session = services.batch_session_start(
        session=batch.sessions.get(target_label="A"), user=engineer
    )
    client.force_login(engineer)
    body = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    assert 'id="batch-strip"' in body and "<strong>A</strong>" in body and "0/2 complete" in body
    response = client.post(
        reverse("sessions:complete", args=[session.pk]), {"outcome": "resolved"}, **HTMX
    )
    assert response["HX-Redirect"] == status_url(batch)


def test_flow_detail_panel_shows_banner_history_and_dots(client, engineer, mnt_flow):
    first = launch(mnt_flow, engineer, ["A", "B", "C"])
    for session in first.sessions.all():
        complete(session, engineer)
    launch(mnt_flow, engineer, ["X", "Y"])
    client.force_login(engineer)
    detail = client.get(reverse("flows:detail", args=[mnt_flow.pk])).content.decode()
    assert reverse("batches:index", args=[mnt_flow.pk]) in detail
    panel = client.get(reverse("batches:index", args=[mnt_flow.pk]), **HTMX).content.decode()
    assert panel.count("active-batch-banner") == 1 and "0/2 complete" in panel
    assert panel.count('class="batch-row"') == 2
    assert "3 resolved" in panel and "2 not started" in panel
    assert panel.count('data-state="complete"') == 3


@pytest.mark.parametrize("targets", [1, 200])
def test_status_partial_and_api_use_constant_queries(
    client, engineer, mnt_flow, targets, django_assert_max_num_queries
):
    batch = launch(mnt_flow, engineer, [f"srv{i:03}" for i in range(targets)])
    for session in list(batch.sessions.all())[: targets // 2]:
        services.batch_session_start(session=session, user=engineer)
    client.force_login(engineer)
    with django_assert_max_num_queries(6):
        client.get(status_url(batch), **HTMX)
    api = api_as(engineer)
    with django_assert_max_num_queries(4):
        assert len(api.get(f"/api/batches/{batch.pk}/").json()["targets"]) == targets
    with django_assert_max_num_queries(5):
        assert api.get("/api/batches/").json()["count"] == 1


def test_panel_query_count_is_constant(client, engineer, mnt_flow, django_assert_max_num_queries):
    client.force_login(engineer)
    url = reverse("batches:index", args=[mnt_flow.pk])
    launch(mnt_flow, engineer, ["A"])
    with django_assert_max_num_queries(12) as few:
        client.get(url, **HTMX)
    for n in range(12):
        batch = launch(mnt_flow, engineer, [f"t{n}-{i}" for i in range(10)])
        for session in list(batch.sessions.all())[:5]:  # in progress: their dots must stay cheap
            services.batch_session_start(session=session, user=engineer)
    with django_assert_max_num_queries(12) as many:
        client.get(url, **HTMX)
    assert len(few.captured_queries) == len(many.captured_queries)


@pytest.mark.parametrize("name", ["status", "start", "panel", "launch"])
def test_outsider_gets_404_on_batch_pages_and_partials(client, outsider, engineer, mnt_flow, name):
    batch = launch(mnt_flow, engineer, ["A"])
    client.force_login(outsider)
    urls = {
        "status": (client.get, status_url(batch)),
        "start": (
            client.post,
            reverse("batches:target-start", args=[mnt_flow.pk, batch.pk, batch.sessions.get().pk]),
        ),
        "panel": (client.get, reverse("batches:index", args=[mnt_flow.pk])),
        "launch": (client.post, reverse("batches:launch", args=[mnt_flow.pk])),
    }
    method, url = urls[name]
    assert method(url, **HTMX).status_code == 404


def test_session_history_filters_by_batch_and_shows_target_labels(client, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["RDS-01", "RDS-02"])
    other = launch(mnt_flow, engineer, ["SQL-01"])
    for session in [*batch.sessions.all(), *other.sessions.all()]:
        services.batch_session_start(session=session, user=engineer)
    client.force_login(engineer)
    body = client.get(reverse("sessions:index"), {"batch_id": str(batch.pk)}).content.decode()
    assert "RDS-01" in body and "RDS-02" in body and "SQL-01" not in body
    rows = api_as(engineer).get("/api/sessions/", {"batch_id": str(batch.pk)}).json()["results"]
    assert sorted(r["target_label"] for r in rows) == ["RDS-01", "RDS-02"]


# --- API --------------------------------------------------------------------------------


def test_api_launch_retrieve_and_start(engineer, owner, mnt_flow):
    api = api_as(engineer)
    r = api.post(
        "/api/batches/",
        {
            "tree": str(mnt_flow.pk),
            "targets": ["A", "B"],
            "ticket_number": "CHG",
            "variables": {"change": "1"},
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["progress"] == {"complete": 0, "in_progress": 0, "total": 2, "percent": 0}
    target = body["targets"][0]
    assert target["state"] == "not_started"
    started = api.post(f"/api/sessions/{target['id']}/start/")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    taken = api_as(owner).post(f"/api/sessions/{target['id']}/start/")
    assert taken.status_code == 409 and "already started A" in taken.json()["detail"]
    got = api.get(f"/api/batches/{body['id']}/").json()
    assert got["targets"][0]["state"] == "in_progress" and got["targets"][0]["steps"] == 2


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"targets": []}, "targets"),
        ({"targets": ["A", "a"]}, "targets"),
        ({"targets": ["A"], "variables": {}}, "change"),
    ],
)
def test_api_launch_errors_are_400_and_create_nothing(engineer, mnt_flow, payload, field):
    r = api_as(engineer).post("/api/batches/", {"tree": str(mnt_flow.pk), **payload}, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not Batch.objects.exists()


def test_api_tenancy(outsider, viewer, engineer, mnt_flow):
    batch = launch(mnt_flow, engineer, ["A"])
    assert api_as(outsider).get(f"/api/batches/{batch.pk}/").status_code == 404
    assert (
        api_as(outsider).post(f"/api/sessions/{batch.sessions.get().pk}/start/").status_code == 404
    )
    assert (
        api_as(outsider)
        .post("/api/batches/", {"tree": str(mnt_flow.pk), "targets": ["A"]}, format="json")
        .status_code
        == 404
    )
    r = api_as(viewer).post(
        "/api/batches/",
        {"tree": str(mnt_flow.pk), "targets": ["Z"], "variables": {"change": "1"}},
        format="json",
    )
    assert r.status_code == 403
    assert api_as(viewer).get(f"/api/batches/{batch.pk}/").status_code == 200


# --- target lists -----------------------------------------------------------------------


def test_target_list_pages_create_edit_delete(client, engineer):
    client.force_login(engineer)
    bad = client.post(reverse("targets:create"), {"name": "RDS", "targets": "RDS-01\nrds-01"})
    assert "Duplicate targets" in bad.content.decode() and not TargetList.objects.exists()
    client.post(
        reverse("targets:create"), {"name": "RDS", "targets": " RDS-01 \n\nRDS-02 | rack 3"}
    )
    saved = TargetList.objects.get()
    assert saved.targets == [
        {"label": "RDS-01", "notes": ""},
        {"label": "RDS-02", "notes": "rack 3"},
    ]
    form = client.get(reverse("targets:edit", args=[saved.pk])).content.decode()
    assert "RDS-02 | rack 3" in form
    client.post(
        reverse("targets:edit", args=[saved.pk]), {"name": "RDS hosts", "targets": "RDS-09"}
    )
    saved.refresh_from_db()
    assert saved.name == "RDS hosts" and len(saved.targets) == 1
    client.post(reverse("targets:delete", args=[saved.pk]))
    assert not TargetList.objects.exists()


def test_target_list_tenancy_and_viewer_read_only(client, api, engineer, viewer, outsider):
    saved = services.target_list_save(user=engineer, name="RDS", targets=[{"label": "A"}])
    client.force_login(outsider)
    assert client.get(reverse("targets:edit", args=[saved.pk])).status_code == 404
    assert client.post(reverse("targets:delete", args=[saved.pk])).status_code == 404
    assert "data-list=" not in client.get(reverse("targets:index")).content.decode()
    assert api_as(outsider).get(f"/api/target-lists/{saved.pk}/").status_code == 404
    client.force_login(viewer)
    assert client.get(reverse("targets:create")).status_code == 403
    assert api_as(viewer).get("/api/target-lists/").json()["count"] == 1
    assert api_as(viewer).delete(f"/api/target-lists/{saved.pk}/").status_code == 403


def test_target_list_api_crud(engineer):
    api = api_as(engineer)
    r = api.post(
        "/api/target-lists/",
        {"name": "SQL", "targets": [{"label": "SQL-01"}, {"label": "SQL-02", "notes": "DR"}]},
        format="json",
    )
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert (
        api.patch(f"/api/target-lists/{pk}/", {"name": "SQL hosts"}, format="json").json()["name"]
        == "SQL hosts"
    )
    dup = api.patch(
        f"/api/target-lists/{pk}/", {"targets": [{"label": "X"}, {"label": "x"}]}, format="json"
    )
    assert dup.status_code == 400 and "targets" in dup.json()
    assert api.delete(f"/api/target-lists/{pk}/").status_code == 204
