"""`make bench`: timings of hot paths, each beside a trivial baseline measured in the same run.

Runs against a throw-away test database (SQLite, or PostgreSQL when DATABASE_URL is set).
Figures belong here, not in timed tests: the suite asserts query counts instead.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolutionflow.settings_test")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", "No directory at", UserWarning)
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

BENCHMARKS: list[Callable[[], list[tuple[str, float]]]] = []
ROUNDS = 30


def benchmark(fn: Callable[[], list[tuple[str, float]]]) -> Callable:
    BENCHMARKS.append(fn)
    return fn


def median_ms(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    action()  # warm caches and templates
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def logged_in_client():
    from tests.factories import UserFactory

    user = UserFactory(email=f"bench{time.time_ns()}@bench.test")
    client = Client()
    client.force_login(user)
    return client, user


@benchmark
def library_page() -> list[tuple[str, float]]:
    from tests.factories import TagFactory, TreeFactory

    client, user = logged_in_client()
    tag = TagFactory(name="bench")
    TreeFactory.create_batch(200, account=user.account, author=user, tags=[tag])
    return [
        ("trivial view (redirect /)", median_ms(lambda: client.get("/"))),
        ("flow library, 200 flows, page 1", median_ms(lambda: client.get("/flows/"))),
        (
            "flow library htmx search",
            median_ms(lambda: client.get("/flows/?q=flow", HTTP_HX_REQUEST="true")),
        ),
        ("GET /api/flows/ (200 flows)", median_ms(lambda: client.get("/api/flows/"))),
    ]


@benchmark
def library_sync() -> list[tuple[str, float]]:
    """The step-library sync of a 1,000-step flow, beside a raw psycopg executemany upsert of
    the same rows (PostgreSQL only) and Django's bulk upsert alone."""
    from django.db import transaction
    from django.utils import timezone

    from flows.models import TreeType
    from steplibrary.models import LibraryStep
    from steplibrary.sync import UPSERT_FIELDS, library_rows, steps_sync_from_tree
    from tests.factories import TreeFactory
    from tests.steplibrary.conftest import big_checklist

    _, user = logged_in_client()
    tree = TreeFactory(
        account=user.account,
        author=user,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=big_checklist(1000),
    )  # published: the first sync inserts; the timed ones update every row
    rows = library_rows(tree, now=timezone.now())

    def django_upsert() -> None:
        with transaction.atomic():
            LibraryStep.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["source_tree", "source_node_id"],
                update_fields=UPSERT_FIELDS,
            )

    results = [
        (
            "library sync, 1,000-step flow (extract+upsert+retire)",
            median_ms(lambda: steps_sync_from_tree(tree=tree)),
        ),
        ("  Django bulk_create upsert only, same rows", median_ms(django_upsert)),
    ]
    if connection.vendor != "postgresql":
        print("  (raw psycopg executemany upsert: PostgreSQL only, skipped on SQLite)")
        return results
    results.append(
        ("  raw psycopg executemany upsert, same rows", median_ms(lambda: psycopg_upsert(rows)))
    )
    return results


# The columns of steplibrary_librarystep, in the order psycopg_upsert() passes them.
COLUMNS = (
    "id, title, step_type, content, visibility, created_by_id, account_id, source_tree_id, "
    "source_node_id, is_flow_synced, is_active, last_synced_at, search_text, created_at, "
    "updated_at, usage_count, helpful_yes, helpful_no"
)


def psycopg_upsert(rows: list) -> None:
    """The same upsert written by hand: one parametrised statement, executemany (psycopg 3
    pipelines it), in one transaction like the sync."""
    from django.db import transaction
    from psycopg.types.json import Jsonb

    from steplibrary.sync import UPSERT_FIELDS

    updated = [
        f"{name}_id" if name in ("created_by", "account") else name for name in UPSERT_FIELDS
    ]
    sql = (
        f"INSERT INTO steplibrary_librarystep ({COLUMNS}) "
        f"VALUES ({', '.join(['%s'] * (COLUMNS.count(',') + 1))}) "
        "ON CONFLICT (source_tree_id, source_node_id) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
    )
    params = [
        (r.id, r.title, r.step_type, Jsonb(r.content), r.visibility, r.created_by_id)
        + (r.account_id, r.source_tree_id, r.source_node_id, True, True, r.last_synced_at)
        + (r.search_text, r.created_at, r.updated_at, 0, 0, 0)
        for r in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.executemany(sql, params)


@benchmark
def step_library_page() -> list[tuple[str, float]]:
    from tests.factories import LibraryStepFactory, TagFactory

    client, user = logged_in_client()
    tag = TagFactory(name="bench-steps")
    LibraryStepFactory.create_batch(200, created_by=user, tags=[tag])
    return [
        ("step library page, 200 entries, page 1", median_ms(lambda: client.get("/library/"))),
        (
            "step library htmx search",
            median_ms(lambda: client.get("/library/?q=step", HTTP_HX_REQUEST="true")),
        ),
        ("GET /api/steps/ (200 entries)", median_ms(lambda: client.get("/api/steps/"))),
    ]


@benchmark
def batch_status_partial() -> list[tuple[str, float]]:
    from flows.models import TreeType
    from sessions import services
    from tests.factories import TreeFactory

    client, user = logged_in_client()
    tree = TreeFactory(account=user.account, author=user, tree_type=TreeType.MAINTENANCE)
    batch = services.batch_launch(tree=tree, user=user, targets=[f"srv{i:03}" for i in range(200)])
    sessions = list(batch.sessions.all())
    for session in sessions[:120]:  # a realistic mix: 60 done, 60 running, 80 not started
        started = services.batch_session_start(session=session, user=user)
        if session in sessions[:60]:
            services.session_complete(session=started, user=user, outcome="resolved")
    url = f"/flows/{tree.pk}/batches/{batch.pk}/"
    return [
        ("trivial view (redirect /)", median_ms(lambda: client.get("/"))),
        (
            "batch status partial, 200 targets",
            median_ms(lambda: client.get(url, HTTP_HX_REQUEST="true")),
        ),
        (
            "GET /api/batches/{id}/, 200 targets",
            median_ms(lambda: client.get(f"/api/batches/{batch.pk}/")),
        ),
    ]


def _wide_tree(count: int) -> dict:
    """A troubleshooting tree of `count` nodes: decisions with two answers, solutions as
    leaves, built breadth-first (what a big real flow looks like to the editor)."""
    root = {"id": "q0", "type": "decision", "question": "Q0?", "options": [], "children": []}
    queue, made = [root], 1
    while queue and made < count:
        parent = queue.pop(0)
        for label in ("Yes", "No"):
            if made >= count:
                break
            kind = "decision" if made < count // 2 else "solution"
            node_id = f"{kind[0]}{made}"
            node = {"id": node_id, "type": kind, "title": f"Node {made}"}
            if kind == "decision":
                node.update(question=f"Q{made}?", options=[], children=[])
                queue.append(node)
            parent["options"].append({"label": label, "next_node_id": node_id})
            parent["children"].append(node)
            made += 1
    return root


@benchmark
def editor_and_focus_mode() -> list[tuple[str, float]]:
    from flows.models import TreeStatus, TreeType
    from sessions import services
    from tests.factories import TreeFactory

    client, user = logged_in_client()
    tree = TreeFactory(
        account=user.account,
        author=user,
        status=TreeStatus.DRAFT,
        tree_structure=_wide_tree(200),
    )
    edit = f"/flows/{tree.pk}/edit/"
    checklist = TreeFactory(account=user.account, author=user, tree_type=TreeType.PROCEDURAL)
    session = services.session_start(tree=checklist, user=user, variables={})
    run = f"/sessions/{session.pk}/run/"
    rows = [("editor page, 200-node tree", median_ms(lambda: client.get(edit)))]
    client.post(f"/flows/{tree.pk}/edit/publish/", {"revision": tree.revision})  # now checked
    rows += [
        (
            "editor page, 200-node tree, after a publish attempt",
            median_ms(lambda: client.get(edit)),
        ),
        ("checklist runner, full list", median_ms(lambda: client.get(run))),
        ("checklist runner, focus mode", median_ms(lambda: client.get(run + "?view=focus"))),
    ]
    return rows


def main() -> None:
    setup_test_environment()
    # Its own database, so a bench never clobbers the test suite's --reuse-db database.
    # Named after the configured database, so benches on two databases never collide.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else f"bench_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {connection.vendor}; median of {ROUNDS} rounds")
        for bench in BENCHMARKS:
            for label, ms in bench():
                print(f"  {label:<56} {ms:8.2f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
