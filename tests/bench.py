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


# --- search at scale (issue 11): 50,000 library entries and 5,000 flows --------------------

SCALE_STEPS = int(os.environ.get("BENCH_STEPS", "50000"))
SCALE_FLOWS = int(os.environ.get("BENCH_FLOWS", "5000"))
SCALE_ROUNDS = 40
# Words of the trade, each with a weight: the first are common (in ~1 entry of 6), the last rare.
TRADE_WORDS = [
    "check",
    "service",
    "restart",
    "server",
    "user",
    "account",
    "password",
    "reset",
    "mailbox",
    "exchange",
    "dns",
    "dhcp",
    "replication",
    "domain",
    "controller",
    "backup",
    "restore",
    "printer",
    "spooler",
    "network",
    "vpn",
    "firewall",
    "certificate",
    "licence",
    "disk",
    "space",
    "cleanup",
    "update",
    "patch",
    "reboot",
    "group",
    "policy",
    "share",
    "permission",
    "folder",
    "drive",
    "mapping",
    "outlook",
    "profile",
    "teams",
    "sharepoint",
    "onedrive",
    "sync",
    "citrix",
    "session",
    "vda",
    "delivery",
    "hyper-v",
    "cluster",
    "node",
    "storage",
    "volume",
    "snapshot",
    "vmware",
    "datastore",
    "switch",
    "port",
    "vlan",
    "wireless",
    "access",
    "point",
    "radius",
    "kerberos",
    "ntlm",
    "ldap",
    "azure",
    "entra",
    "intune",
    "compliance",
    "device",
    "enrolment",
    "bitlocker",
    "recovery",
    "key",
    "antivirus",
    "defender",
    "quarantine",
    "alert",
    "ticket",
    "escalate",
    "customer",
    "verify",
    "confirm",
    "document",
    "note",
    "log",
    "event",
]


def scale_words(count: int, seed: int = 11) -> list[str]:
    """A vocabulary: the trade words, then made-up ones (rare terms), Zipf-weighted."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghiklmnoprstuvwxyz"
    made_up = {
        "".join(rng.choice(letters) for _ in range(rng.randint(5, 10))) for _ in range(count)
    }
    return TRADE_WORDS + sorted(made_up)


def build_scale_data(user) -> None:
    """50,000 entries (public, the user's team, others' private) and 5,000 published flows of
    the user's account, written with bulk inserts; the search vectors in one UPDATE each."""
    import random

    from django.utils import timezone

    from flows import services as flow_services
    from flows.models import Tree, TreeStatus, TreeType
    from steplibrary import services as step_services
    from steplibrary.models import LibraryStep, Visibility, search_text_for
    from tests.factories import UserFactory

    rng = random.Random(2026)
    vocabulary = scale_words(3000)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(vocabulary))]

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, weights, k=rng.randint(low, high)))

    other = UserFactory(email=f"other{time.time_ns()}@bench.test")
    now = timezone.now()
    visibilities = [Visibility.PUBLIC, Visibility.TEAM, Visibility.PRIVATE]
    rows = []
    for n in range(SCALE_STEPS):
        visibility = rng.choices(visibilities, [45, 45, 10])[0]
        owner = other if visibility == Visibility.PRIVATE else user
        title = text(3, 7).capitalize()
        content = {
            "instructions": text(15, 60),
            "help_text": text(0, 12),
            "commands": [
                {"label": text(1, 3), "command": f"Invoke-{text(1, 2)} -Name srv{n}"}
                for _ in range(rng.randint(0, 2))
            ],
            "group_label": "",
        }
        rows.append(
            LibraryStep(
                title=title[:255],
                content=content,
                visibility=visibility,
                created_by=owner,
                account=owner.account,
                usage_count=rng.randint(0, 500),
                search_text=search_text_for(title, content),
                created_at=now,
            )
        )
    LibraryStep.objects.bulk_create(rows, batch_size=2000)
    flows = [
        Tree(
            name=text(2, 6).capitalize()[:255],
            description=text(10, 40),
            tree_type=TreeType.TROUBLESHOOTING,
            status=TreeStatus.PUBLISHED,
            account=user.account,
            author=user,
            usage_count=rng.randint(0, 500),
            published_at=now,
        )
        for _ in range(SCALE_FLOWS)
    ]
    Tree.objects.bulk_create(flows, batch_size=2000)
    # (getattr: the same bench measures a checkout from before the search vectors.)
    if hasattr(step_services, "steps_search_refresh"):
        step_services.steps_search_refresh(steps=LibraryStep.objects.all())
        flow_services.trees_search_refresh(trees=Tree.objects.all())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def percentiles_ms(action: Callable[[], object], rounds: int = SCALE_ROUNDS) -> tuple:
    """p50 and p95 of wall time, p95 of this process's CPU time, and the query count and SQL
    time of one call (after a warm-up call). On a busy machine wall time includes waiting for
    a core; CPU time (Python) plus SQL time is what the request itself costs."""
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    action()
    reset_queries()  # each request clears the log; the capture must start from empty
    with CaptureQueriesContext(connection) as captured:
        action()
    queries = len(captured)  # now: later requests clear the log it reads
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    samples, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18]
    cpu_p95 = statistics.quantiles(cpu, n=20)[18]
    return statistics.median(samples), p95, cpu_p95, sql_ms, queries


def search_at_scale() -> None:
    from django.test import Client

    client, user = logged_in_client()
    start = time.perf_counter()
    build_scale_data(user)
    print(
        f"  (built {SCALE_STEPS:,} entries and {SCALE_FLOWS:,} flows in "
        f"{time.perf_counter() - start:.1f} s)"
    )
    htmx = {"HTTP_HX_REQUEST": "true"}
    cases = [
        ("library page, unfiltered", "/library/", {}),
        ("library htmx search, common word", "/library/?q=password", htmx),
        ("library htmx search, two common words", "/library/?q=restart+service", htmx),
        ("library htmx search, rare word", f"/library/?q={scale_words(3000)[2000]}", htmx),
        ("library htmx search, typo (replciation)", "/library/?q=replciation", htmx),
        ("library htmx search, prefix (certif)", "/library/?q=certif", htmx),
        ("library htmx search, no match", "/library/?q=zzzqqqxxx", htmx),
        ("session insert browser, search", "/library/browse/?part=results&q=restart", htmx),
        ("GET /api/steps/?q=password", "/api/steps/?q=password", {}),
        ("flow library, unfiltered", "/flows/", {}),
        ("flow library htmx search, common word", "/flows/?q=password", htmx),
        ("flow library htmx search, typo", "/flows/?q=replciation", htmx),
        ("GET /api/flows/?q=password", "/api/flows/?q=password", {}),
    ]
    assert isinstance(client, Client)
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'':<44} {'p50':>7} {'p95':>7} {'cpu p95':>8} {'sql':>6}  queries")
    for label, url, headers in cases:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        p50, p95, cpu, sql, queries = percentiles_ms(lambda u=url, h=headers: client.get(u, **h))
        print(f"  {label:<44} {p50:7.1f} {p95:7.1f} {cpu:8.1f} {sql:6.1f}  {queries}")


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
    # Named after the configured database, so benches on two databases never collide.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else f"bench_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {connection.vendor}; median of {ROUNDS} rounds")
        only_scale = os.environ.get("BENCH_ONLY") == "search"
        for bench in [] if only_scale else BENCHMARKS:
            for label, ms in bench():
                print(f"  {label:<56} {ms:8.2f} ms")
        print(f"search at scale: {SCALE_ROUNDS} rounds each, server time in-process, in ms")
        search_at_scale()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
