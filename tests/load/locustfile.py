"""`make loadtest`, step 4: 1,000 open batch status pages and ten engineers at work.

Each page polls the status partial every 5 s as htmx does in a browser (HX-Request, gzip,
If-None-Match with the ETag of what it shows). Each engineer changes something about every
5 s (about two changes a second in all): ticks the next step of a running target, completes
it when every step is ticked, or starts a target nobody has started. Settings come from the
environment run.py sets: LOADTEST_PLAN (seed.py's JSON) and LOADTEST_HOSTS (comma-separated
base URLs; with two, every page alternates between them, so a 304 from one instance for an
ETag the other issued shows both give the same answers)."""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from pathlib import Path

from locust import FastHttpUser, constant_pacing, constant_throughput, events, task

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
HOSTS = os.environ["LOADTEST_HOSTS"].split(",")
POLL_SECONDS = 5.0
PAGES = int(os.environ.get("LOADTEST_PAGES", len(PLAN["watchers"])))
NOT_STARTED = list(PLAN["not_started"])
random.shuffle(NOT_STARTED)

watcher_numbers = itertools.count()
engineer_numbers = itertools.count()
wire = Counter()  # responses by status, and bytes as sent (gzipped), for the summary


class StatusPage(FastHttpUser):
    """One open status page; its first poll comes at a random moment of the first 5 s."""

    host = HOSTS[0]
    wait_time = constant_pacing(POLL_SECONDS)
    weight = 1000

    def on_start(self) -> None:
        self.number = next(watcher_numbers)
        self.cookie = PLAN["watchers"][self.number % len(PLAN["watchers"])]
        self.etag = ""
        self.polls = itertools.cycle(HOSTS[self.number % len(HOSTS) :] + HOSTS)

    @task
    def poll(self) -> None:
        headers = {
            "HX-Request": "true",
            "Accept-Encoding": "gzip",
            "Cookie": f"sessionid={self.cookie}",
        }
        if self.etag:
            headers["If-None-Match"] = self.etag
        url = next(self.polls) + PLAN["status_path"]
        with self.client.get(url, headers=headers, name="poll", catch_response=True) as r:
            if r.status_code not in (200, 286, 304):
                r.failure(f"status {r.status_code}")
                return
            wire[r.status_code] += 1
            wire["bytes"] += int(r.headers.get("Content-Length") or 0)
            self.etag = r.headers.get("ETag") or self.etag
            r.success()


class Engineer(FastHttpUser):
    host = HOSTS[0]
    wait_time = constant_throughput(1 / POLL_SECONDS)
    fixed_count = 10

    def on_start(self) -> None:
        me = PLAN["engineers"][next(engineer_numbers) % len(PLAN["engineers"])]
        self.running = [dict(work) for work in me["running"]]
        self.headers = {
            "HX-Request": "true",
            "Cookie": f"sessionid={me['cookie']}; csrftoken={PLAN['csrf']}",
            "X-CSRFToken": PLAN["csrf"],
        }

    def post(self, url: str, data: dict, name: str, ok: tuple[int, ...] = (200, 204)) -> int:
        with self.client.post(
            url, data=data, headers=self.headers, name=name, catch_response=True
        ) as r:
            if r.status_code in ok:
                r.success()
            else:
                r.failure(f"status {r.status_code}")
            return r.status_code

    @task
    def work(self) -> None:
        if not self.running:
            self.start_a_target()
            return
        current = self.running[0]
        session = f"/sessions/{current['session']}"
        if current["todo"]:
            step = current["todo"].pop(0)
            self.post(f"{session}/steps/{step}/", {"done": "1"}, "engineer: tick")
        else:
            self.post(f"{session}/complete/", {"outcome": "resolved"}, "engineer: complete")
            self.running.pop(0)

    def start_a_target(self) -> None:
        if not NOT_STARTED:
            return
        url = NOT_STARTED.pop()
        with self.client.post(
            url, headers=self.headers, name="engineer: start", catch_response=True
        ) as r:
            redirect = r.headers.get("HX-Redirect", "")
            if r.status_code == 200 and redirect.startswith("/sessions/"):
                session = redirect.split("/")[2]
                self.running.append({"session": session, "todo": list(PLAN["step_ids"])})
                r.success()
            elif r.status_code == 204:
                r.success()  # someone else was quicker: the toast says who
            else:
                r.failure(f"status {r.status_code}")


@events.spawning_complete.add_listener
def measure_from_here(user_count: int, **kwargs) -> None:
    wire.clear()  # locust resets its own stats here too (--reset-stats)
    wire["users"] = user_count


@events.quitting.add_listener
def summary(environment, **kwargs) -> None:
    stats = environment.stats
    poll = stats.get("poll", "GET")
    changes = sum(
        entry.num_requests for (name, _), entry in stats.entries.items() if name != "poll"
    )
    seconds = max(1e-9, stats.total.last_request_timestamp - stats.total.start_time)
    answered = sum(wire[code] for code in (200, 286, 304)) or 1
    errors = stats.total.num_failures
    lines = [
        f"instances: {len(HOSTS)} ({', '.join(HOSTS)})",
        f"measured: {seconds:.0f} s after all {wire['users']} users started",
        f"status polls served: {poll.num_requests / seconds:.1f} req/s "
        f"({poll.num_requests} polls; offered {PAGES / POLL_SECONDS:.0f} req/s)",
        f"poll latency: p50 {poll.get_response_time_percentile(0.5):.0f} ms, "
        f"p95 {poll.get_response_time_percentile(0.95):.0f} ms, "
        f"p99 {poll.get_response_time_percentile(0.99):.0f} ms, "
        f"max {poll.max_response_time:.0f} ms",
        f"answers: {wire[304]} × 304, {wire[200]} × 200, {wire[286]} × 286; "
        f"bytes per response on the wire {wire['bytes'] / answered:,.0f} "
        f"(per 200: {wire['bytes'] / max(1, wire[200] + wire[286]):,.0f})",
        f"engineer changes: {changes} ({changes / seconds:.1f}/s), "
        f"p95 {stats.total.get_response_time_percentile(0.95):.0f} ms over all requests",
        f"errors: {errors}",
    ]
    print("\n== load test ==\n" + "\n".join(lines), flush=True)
    environment.process_exit_code = 1 if errors else 0
