"""`make bench`: timings of hot paths, each beside a trivial baseline measured in the same run.

Runs against a throw-away test database (SQLite, or PostgreSQL when DATABASE_URL is set).
Figures belong here, not in timed tests: the suite asserts query counts instead.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolutionflow.settings")
sys.argv = [sys.argv[0], "test"]  # settings: test mode (fast hasher, no secret needed)

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


def main() -> None:
    setup_test_environment()
    # Its own database, so a bench never clobbers the test suite's --reuse-db database.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else "bench_resolutionflow"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {connection.vendor}; median of {ROUNDS} rounds")
        for bench in BENCHMARKS:
            for label, ms in bench():
                print(f"  {label:<48} {ms:8.2f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
