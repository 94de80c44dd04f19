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
    # The rows above repeat one request, so their cards come from the card memo (as a page
    # everyone opens does); these render all 24 cards every time.
    from steplibrary.templatetags import library

    for label, url, headers in cases[:2]:

        def cold(u: str = url, h: dict = headers) -> object:
            library._card_memo.clear()
            return client.get(u, **h)

        p50, p95, cpu, sql, queries = percentiles_ms(cold)
        label = f"{label}, cards not seen before"
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
    etag = client.get(url, HTTP_HX_REQUEST="true")["ETag"]

    def changed_then_polled() -> None:
        services.bump_batch_revision(batch.pk)  # as a tick would: the next poll renders
        client.get(url, HTTP_HX_REQUEST="true")

    return [
        ("trivial view (redirect /)", median_ms(lambda: client.get("/"))),
        (
            "batch status partial, 200 targets, from the cache",
            median_ms(lambda: client.get(url, HTTP_HX_REQUEST="true")),
        ),
        (
            "batch status partial, 200 targets, unchanged (304)",
            median_ms(lambda: client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)),
        ),
        ("batch status partial, 200 targets, after a change", median_ms(changed_then_polled)),
        (
            "GET /api/batches/{id}/, 200 targets",
            median_ms(lambda: client.get(f"/api/batches/{batch.pk}/")),
        ),
    ]


def cpu_ms(action: Callable[[], object], rounds: int = 300, blocks: int = 5) -> float:
    """CPU time of this process per call, in ms: the median of `blocks` averages over `rounds`
    calls (a busy machine stretches wall time, much less the CPU a request needs)."""
    for _ in range(20):
        action()
    averages = []
    for _ in range(blocks):
        start = time.process_time()
        for _ in range(rounds):
            action()
        averages.append((time.process_time() - start) * 1000 / rounds)
    return statistics.median(averages)


@benchmark
def batch_poll_cpu() -> list[tuple[str, float]]:
    """`BENCH_ONLY=poll`: CPU per warm status poll, 200 targets (60 done, 60 running, 80 not
    started), through the whole middleware stack. Set REDIS_URL to measure it as deployed
    (cached_db sessions, the shared cache); the load test's server cost without the load."""
    from django.conf import settings
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role
    from flows.models import TreeType
    from sessions import services
    from tests.factories import TreeFactory, UserFactory

    viewer_client, viewer = logged_in_client()
    engineer = UserFactory(
        email=f"eng{time.time_ns()}@bench.test", account=viewer.account, role=Role.ENGINEER
    )
    tree = TreeFactory(account=viewer.account, author=engineer, tree_type=TreeType.MAINTENANCE)
    batch = services.batch_launch(
        tree=tree, user=engineer, targets=[f"srv{i:03}" for i in range(200)]
    )
    sessions = list(batch.sessions.order_by("target_label"))
    for n, session in enumerate(sessions[:120]):
        started = services.batch_session_start(session=session, user=engineer)
        if n < 60:
            services.session_complete(session=started, user=engineer, outcome="resolved")
    engineer_client = Client()
    engineer_client.force_login(engineer)
    url = f"/flows/{tree.pk}/batches/{batch.pk}/"
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_ENCODING": "gzip"}
    etag = viewer_client.get(url, **htmx)["ETag"]

    def queries(client: Client, **headers: str) -> int:
        client.get(url, **htmx, **headers)
        with CaptureQueriesContext(connection) as captured:
            client.get(url, **htmx, **headers)
        return len(captured)

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"  (cache {cache}, sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}; "
          f"load average {os.getloadavg()[0]:.1f}; CPU ms per poll, queries per poll)")  # fmt: skip
    return [
        ("trivial view (redirect /), CPU", cpu_ms(lambda: viewer_client.get("/"))),
        (
            f"warm poll 200, a watcher, CPU ({queries(viewer_client)} queries)",
            cpu_ms(lambda: viewer_client.get(url, **htmx)),
        ),
        (
            f"warm poll 304, a watcher, CPU ({queries(viewer_client, HTTP_IF_NONE_MATCH=etag)} q.)",
            cpu_ms(lambda: viewer_client.get(url, HTTP_IF_NONE_MATCH=etag, **htmx)),
        ),
        (
            f"warm poll 200, engineer with 60 running, CPU ({queries(engineer_client)} q.)",
            cpu_ms(lambda: engineer_client.get(url, **htmx)),
        ),
    ]


@benchmark
def batch_launch_1000() -> list[tuple[str, float]]:
    """Launching 1,000 targets: one transaction, one bulk insert (goal: under a second)."""
    from flows.models import TreeType
    from sessions import services
    from tests.factories import TreeFactory, UserFactory

    user = UserFactory(email=f"launch{time.time_ns()}@bench.test")
    tree = TreeFactory(account=user.account, author=user, tree_type=TreeType.MAINTENANCE)
    targets = [f"rds-host-{i:04}.corp.example.net" for i in range(1000)]
    launch = lambda: services.batch_launch(tree=tree, user=user, targets=targets)  # noqa: E731
    return [("launch a batch of 1,000 targets", median_ms(launch, rounds=5))]


# --- analytics at scale (PostgreSQL): 100,000 sessions and 2,000,000 events per flow ------

SESSIONS = 100_000
EVENTS_PER_SESSION = 20
LEAF_SPREAD = 200  # leaves 256..455 are reached, 456..511 never: dead branches to find


def binary_tree(level: int = 0, index: int = 1, depth: int = 8) -> dict:
    """Node n<i> has children n<2i> and n<2i+1>; leaves (level 8) are solutions."""
    if level == depth:
        return {"id": f"n{index}", "type": "solution", "title": f"Fix {index}"}
    children = [binary_tree(level + 1, 2 * index + b, depth) for b in (0, 1)]
    return {
        "id": f"n{index}",
        "type": "decision",
        "question": f"Question {index}?",
        "options": [
            {"label": "Yes", "next_node_id": children[0]["id"]},
            {"label": "No", "next_node_id": children[1]["id"]},
        ],
        "children": children,
    }


def checklist(steps: int = 12) -> dict:
    return {
        "steps": [
            {"id": f"s{i}", "type": "procedure_step", "title": f"Step {i}"}
            for i in range(1, steps + 1)
        ]
        + [{"id": "end", "type": "procedure_end", "title": "Done"}]
    }


SESSION_SQL = """
INSERT INTO flow_sessions_flowsession (
    id, tree_id, tree_name, tree_type, structure_snapshot, intake_form_snapshot, user_id,
    account_id, status, outcome, outcome_notes, next_steps, ticket_number, client_name,
    variables, path, current_node_id, step_state, custom_steps, batch_id, target_label, rating,
    rating_comment, exported, created_at, started_at, completed_at, updated_at)
SELECT gen_random_uuid(), %(tree)s, 'bench', %(type)s, '{}', '[]', %(user)s, %(account)s,
    CASE WHEN g %% 10 = 0 THEN 'in_progress' ELSE 'completed' END,
    CASE WHEN g %% 10 = 0 THEN '' ELSE (ARRAY['resolved', 'resolved', 'resolved', 'escalated',
        'unresolved', 'workaround', 'cancelled', 'resolved', 'escalated'])[1 + g %% 9] END,
    '', '', 'T-' || g, '', '{}', '[]',
    CASE WHEN %(type)s = 'troubleshooting'
        THEN 'n' || (256 + (g * 7919) %% %(spread)s) ELSE '' END,
    '{}', '[]', NULL, '', CASE WHEN g %% 4 = 0 THEN 1 + g %% 5 END,
    CASE WHEN g %% 40 = 0 THEN 'Comment ' || g ELSE '' END, false,
    start, start,
    CASE WHEN g %% 10 = 0 THEN NULL ELSE start + (5 + g %% 90) * interval '1 minute' END,
    start + interval '1 hour'
FROM generate_series(1, %(n)s) AS g,
    LATERAL (
        SELECT now() - (g %% 365) * interval '1 day' - (g %% 1440) * interval '1 minute'
    ) AS t(start)
"""

# 20 events per run: start, 8 answers down the tree (or 12 ticks), notes, complete, rating, export.
TREE_EVENTS_SQL = """
INSERT INTO flow_sessions_sessionevent (
    session_id, tree_id, user_id, kind, node_id, at, elapsed_s, payload)
SELECT s.id, s.tree_id, s.user_id,
    CASE WHEN e = 1 THEN 'start' WHEN e <= 9 THEN 'answer' WHEN e <= 17 THEN 'note'
         WHEN e = 18 THEN 'complete' WHEN e = 19 THEN 'rating' ELSE 'export' END,
    'n' || CASE WHEN e BETWEEN 2 AND 9 THEN (256 + r) >> (8 - (e - 2))
                WHEN e BETWEEN 10 AND 17 THEN (256 + r) >> (8 - (e - 10))
                WHEN e = 18 THEN 256 + r ELSE 1 END,
    s.started_at + e * interval '1 minute', NULL,
    CASE WHEN e BETWEEN 2 AND 9 THEN jsonb_build_object(
        'choice', 'Yes', 'next', 'n' || ((256 + r) >> (8 - (e - 1)))) ELSE '{}'::jsonb END
FROM (SELECT id, tree_id, user_id, started_at, (ticket_number_n * 7919) %% %(spread)s AS r
      FROM (SELECT *, substr(ticket_number, 3)::int AS ticket_number_n
            FROM flow_sessions_flowsession WHERE tree_id = %(tree)s) AS q) AS s,
    generate_series(1, %(per)s) AS e
"""

CHECKLIST_EVENTS_SQL = """
INSERT INTO flow_sessions_sessionevent (
    session_id, tree_id, user_id, kind, node_id, at, elapsed_s, payload)
SELECT s.id, s.tree_id, s.user_id,
    CASE WHEN e = 1 THEN 'start'
         WHEN e <= 13 AND (n + e) %% 7 = 0 THEN 'skipped'
         WHEN e <= 13 THEN 'tick'
         WHEN e <= 15 THEN 'custom_added' WHEN e <= 17 THEN 'thumbs'
         WHEN e = 18 THEN 'complete' WHEN e = 19 THEN 'rating' ELSE 'export' END,
    CASE WHEN e BETWEEN 2 AND 13 THEN 's' || (e - 1)
         WHEN e BETWEEN 14 AND 17 THEN 's' || (1 + (n + e) %% 12) ELSE '' END,
    s.started_at + e * interval '1 minute',
    CASE WHEN e BETWEEN 2 AND 13 THEN 30 + (n * e) %% 600 END,
    '{}'::jsonb
FROM (SELECT id, tree_id, user_id, started_at, substr(ticket_number, 3)::int AS n
      FROM flow_sessions_flowsession WHERE tree_id = %(tree)s) AS s,
    generate_series(1, %(per)s) AS e
"""


# The counters the services would have written for those runs (sessions.rollup), in SQL.
ROLLUP_SQL = """
INSERT INTO flow_sessions_flowcount (tree_id, day, key, node_id, value)
SELECT tree_id, day, key, node_id, sum(n) FROM (
    SELECT s.tree_id, (s.started_at AT TIME ZONE 'UTC')::date AS day, k.key, k.node_id, k.n
    FROM flow_sessions_flowsession s,
    LATERAL (VALUES
        ('run', '', 1),
        (CASE WHEN s.status = 'completed' THEN 'out:' || CASE
            WHEN s.outcome IN ('resolved', 'workaround', 'resolved_externally') THEN 'resolved'
            WHEN s.outcome = 'escalated' THEN 'escalated' ELSE 'unresolved' END END, '', 1),
        (CASE WHEN s.status = 'completed' THEN 'dur' END,
            LEAST(1440, floor(extract(epoch FROM s.completed_at - s.started_at) / 60))::int::text,
            1),
        (CASE WHEN s.status = 'completed' AND s.current_node_id <> '' THEN 'ended' END,
            s.current_node_id, 1),
        (CASE WHEN s.rating IS NOT NULL THEN 'star' END, s.rating::text, 1)
    ) AS k(key, node_id, n)
    WHERE s.tree_id = %(tree)s AND k.key IS NOT NULL
    UNION ALL
    SELECT e.tree_id, (s.started_at AT TIME ZONE 'UTC')::date, k.key, k.node_id, k.n
    FROM flow_sessions_sessionevent e
    JOIN flow_sessions_flowsession s ON s.id = e.session_id,
    LATERAL (VALUES
        (CASE e.kind WHEN 'answer' THEN 'arrive' WHEN 'tick' THEN 'tick'
            WHEN 'skipped' THEN 'skipped' WHEN 'custom_added' THEN 'custom' END,
            CASE WHEN e.kind = 'answer' THEN e.payload ->> 'next' ELSE e.node_id END, 1::bigint),
        (CASE WHEN e.kind = 'tick' AND e.elapsed_s IS NOT NULL THEN 'tick_s' END,
            e.node_id, e.elapsed_s::bigint),
        (CASE WHEN e.kind = 'tick' AND e.elapsed_s IS NOT NULL THEN 'tick_n' END, e.node_id, 1)
    ) AS k(key, node_id, n)
    WHERE e.tree_id = %(tree)s AND k.key IS NOT NULL
) AS counted
GROUP BY tree_id, day, key, node_id
"""


ALL_TIME_SQL = """
INSERT INTO flow_sessions_flowcount (tree_id, day, key, node_id, value)
SELECT tree_id, DATE '0001-01-01', key, node_id, sum(value) FROM flow_sessions_flowcount
WHERE tree_id = %(tree)s GROUP BY tree_id, key, node_id
"""


def build_runs(tree, user, events_sql: str) -> None:
    """100,000 runs and 2,000,000 events of one flow, in two INSERT … SELECT statements."""
    params = {
        "tree": tree.pk,
        "type": tree.tree_type,
        "user": user.pk,
        "account": user.account_id,
        "n": SESSIONS,
        "per": EVENTS_PER_SESSION,
        "spread": LEAF_SPREAD,
    }
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SQL, params)
        cursor.execute(events_sql, params)
        cursor.execute(ROLLUP_SQL, params)
        cursor.execute(ALL_TIME_SQL, params)
        cursor.execute("VACUUM ANALYZE flow_sessions_flowcount")  # as autovacuum would
        cursor.execute("ANALYZE flow_sessions_flowcount")
        cursor.execute("ANALYZE flow_sessions_flowsession")
        cursor.execute("ANALYZE flow_sessions_sessionevent")


def p95_ms(action: Callable[[], object], rounds: int = 20) -> tuple[float, float]:
    action()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1) + 0.5)]


@benchmark
def analytics_at_scale() -> list[tuple[str, float]]:
    """The analytics page, CSV and API of a troubleshooting flow and a checklist, each with
    100,000 sessions and 2,000,000 events (PostgreSQL; the issue's budget is p95 ≤ 300 ms)."""
    from flows.models import TreeType
    from sessions.models import SessionEvent
    from tests.factories import TreeFactory

    if connection.vendor != "postgresql":
        print("  (analytics at scale: PostgreSQL only, skipped on SQLite)")
        return []
    client, user = logged_in_client()
    trees = {
        "troubleshooting": TreeFactory(
            account=user.account, author=user, tree_structure=binary_tree()
        ),
        "checklist": TreeFactory(
            account=user.account,
            author=user,
            tree_type=TreeType.PROCEDURAL,
            tree_structure=checklist(),
        ),
    }
    started = time.perf_counter()
    build_runs(trees["troubleshooting"], user, TREE_EVENTS_SQL)
    build_runs(trees["checklist"], user, CHECKLIST_EVENTS_SQL)
    built = time.perf_counter() - started
    events = SessionEvent.objects.filter(tree=trees["checklist"]).count()
    print(f"  built 2 × {SESSIONS:,} sessions, 2 × {events:,} events in {built:.1f} s")
    results = []
    for name, tree in trees.items():
        for period in ("30d", "all"):
            page = f"/flows/{tree.pk}/analytics/?period={period}"
            median, p95 = p95_ms(lambda page=page: client.get(page))
            results += [(f"{name} analytics page {period}, median", median)]
            results += [(f"{name} analytics page {period}, p95", p95)]
        api = f"/api/flows/{tree.pk}/analytics/?period=all"
        p95 = p95_ms(lambda api=api: client.get(api))[1]
        results.append((f"{name} GET /api/flows/{{id}}/analytics/ all, p95", p95))
    return results


@benchmark
def session_export() -> list[tuple[str, float]]:
    """Copy for Ticket of a long run (issue 14): 200 ticked steps with notes (one in ten with a
    secret), 20 custom steps with commands; the layout alone beside detection + redaction."""
    from flows.models import TreeType
    from sessions import exports, runtime, services
    from tests.factories import TreeFactory
    from tests.sessions.redaction_corpus import CLEAN, SECRET_BEARING
    from tests.steplibrary.conftest import big_checklist

    client, user = logged_in_client()
    tree = TreeFactory(
        account=user.account,
        author=user,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=big_checklist(200),
        intake_form=[{"name": "host", "label": "Host (FQDN)", "type": "text"}],
    )
    session = services.session_start(tree=tree, user=user, variables={"host": "fs01"})
    steps = [row for row in runtime.checklist(session) if row.is_tickable]
    for n, row in enumerate(steps):
        note = SECRET_BEARING[n % len(SECRET_BEARING)].text if n % 10 == 0 else CLEAN[n % 60]
        session = services.session_step_update(
            session=session, user=user, step_id=row.id, done=True, note=note
        )
    for n in range(20):
        session, _ = services.session_custom_step_add(
            session=session,
            user=user,
            inserted_after=steps[n * 10].id,
            title=f"Extra check {n}",
            commands=f"Get-Service -ComputerName fs01 `\n    -Name Spooler{n}",
        )
    session = services.session_complete(session=session, user=user, outcome="resolved")
    session = session.__class__.objects.with_list_data().get(pk=session.pk)
    document = exports.export_document(session, fmt="psa")
    print(f"  (PSA text {len(document.text()):,} characters, {len(document.found)} findings)")
    return [
        (
            "PSA layout only, 220-step session (no detection)",
            median_ms(lambda: exports.render_psa(exports.build_report(session))),
        ),
        (
            "PSA export with detection + redaction, same session",
            median_ms(lambda: exports.export_document(session, fmt="psa").text(redact=True)),
        ),
        (
            "GET /api/sessions/{id}/export/?redact=1, same session",
            median_ms(lambda: client.get(f"/api/sessions/{session.pk}/export/?redact=1")),
        ),
        (
            "session detail page (preview with findings)",
            median_ms(lambda: client.get(f"/sessions/{session.pk}/")),
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
        only = os.environ.get("BENCH_ONLY", "")  # "search", "poll", or part of benchmarks' names
        only_scale = only == "search"
        for bench in [] if only_scale else BENCHMARKS:
            if only and only not in bench.__name__:
                continue  # BENCH_ONLY=batch: the batch status and launch benchmarks only
            for label, ms in bench():
                print(f"  {label:<56} {ms:8.2f} ms")
        if only_scale or not only:
            print(f"search at scale: {SCALE_ROUNDS} rounds each, server time in-process, in ms")
            search_at_scale()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
