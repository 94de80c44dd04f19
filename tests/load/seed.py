"""`make loadtest`, step 2: the data of a load test, in the database DATABASE_URL names.

One team, ten engineers, a hundred watchers; one batch of the default "RDS session host
monthly patching" flow over 200 targets (60 done, 60 running, 80 not started); a logged-in
Django session for each of the 1,000 simulated status pages and each engineer. Writes the plan
(cookies, URLs, ids) the locustfile reads, as JSON, to the path given as the first argument.

Run by tests/load/run.py, which points DATABASE_URL at the load test's own database."""

from __future__ import annotations

import json
import os
import secrets
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolutionflow.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Account, Role, User  # noqa: E402
from flows.models import Tree  # noqa: E402
from sessions import runtime, services  # noqa: E402

FLOW = "rds-session-host-monthly-patching"
TARGETS, DONE, RUNNING = 200, 60, 60
ENGINEERS, WATCHER_USERS, PAGES = 10, 100, 1000


def person(account: Account, email: str, role: str) -> User:
    # No password: the simulated browsers arrive with a session, as after logging in.
    return User.objects.create_user(
        email, account=account, role=role, full_name=email.split("@")[0]
    )


def login_cookie(user: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def intake(tree: Tree) -> dict[str, str]:
    answers = {}
    for spec in tree.intake_form or []:
        options = spec.get("options") or []
        answers[spec["name"]] = options[0] if spec.get("type") == "select" else "CHG0042"
    return answers


def main(plan_path: str) -> None:
    account = Account.objects.create(name="Load test MSP", slug=f"load-{secrets.token_hex(4)}")
    engineers = [person(account, f"eng{i}@load.test", Role.ENGINEER) for i in range(ENGINEERS)]
    watchers = [person(account, f"watch{i}@load.test", Role.VIEWER) for i in range(WATCHER_USERS)]
    tree = Tree.objects.get(default_key=FLOW)
    batch = services.batch_launch(
        tree=tree,
        user=engineers[0],
        targets=[f"rds-{i:03}.corp.example.net" for i in range(TARGETS)],
        ticket_number="CHG0042",
        variables=intake(tree),
    )
    sessions = list(batch.sessions.order_by("target_label"))
    running: dict[int, list[dict]] = {n: [] for n in range(ENGINEERS)}
    for n, session in enumerate(sessions[: DONE + RUNNING]):
        engineer = engineers[n % ENGINEERS]
        started = services.batch_session_start(session=session, user=engineer)
        if n < DONE:
            services.session_complete(session=started, user=engineer, outcome="resolved")
            continue
        steps = [row.id for row in runtime.checklist(started) if row.is_tickable]
        for step_id in steps[: n % 4]:
            started = services.session_step_update(
                session=started, user=engineer, step_id=step_id, done=True
            )
        running[n % ENGINEERS].append({"session": str(session.pk), "todo": steps[n % 4 :]})
    sample = sessions[0]
    plan = {
        "status_path": reverse("batches:detail", args=[tree.pk, batch.pk]),
        "step_ids": [row.id for row in runtime.checklist(sample) if row.is_tickable],
        "not_started": [
            reverse("batches:target-start", args=[tree.pk, batch.pk, s.pk])
            for s in sessions[DONE + RUNNING :]
        ],
        "watchers": [login_cookie(watchers[n % WATCHER_USERS]) for n in range(PAGES)],
        "engineers": [
            {"cookie": login_cookie(engineer), "running": running[n]}
            for n, engineer in enumerate(engineers)
        ],
        "csrf": secrets.token_hex(16),  # the csrftoken cookie and X-CSRFToken of the engineers
    }
    with open(plan_path, "w") as out:
        json.dump(plan, out)
    print(
        f"seeded: batch of {TARGETS} targets ({DONE} done, {RUNNING} running), "
        f"{ENGINEERS} engineers, {PAGES} status pages"
    )


if __name__ == "__main__":
    main(sys.argv[1])
