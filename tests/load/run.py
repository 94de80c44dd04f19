"""`make loadtest [INSTANCES=2]`: the batch status page under 1,000 watchers.

1. (Re)creates the load test's own PostgreSQL database (LOADTEST_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/rf_loadtest), migrates it, loads the default flows.
2. Seeds a 200-target batch, ten engineers and 1,000 logged-in status pages (seed.py).
3. Starts gunicorn (4 workers) on 127.0.0.1:8101 — with INSTANCES=2 a second one on :8102,
   both sharing the database and Redis (LOADTEST_REDIS_URL, default redis://127.0.0.1:6379/15).
4. Runs locust headless (locustfile.py): 1,000 pages polling every 5 s with If-None-Match and
   ten engineers making about two changes a second, for 60 s after a 10 s ramp-up; prints
   req/s, p50/p95/p99, errors and bytes per response.
5. With two instances, asks both for the same page and shows they answer the same ETag and body.

Not part of CI (it takes about 90 s and wants PostgreSQL); it works from a clean clone after
`make test` has installed the dev requirements."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/rf_loadtest"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
GOAL = "goal: the full 200 req/s served, p95 under 100 ms, zero errors"


def recreate_database(url: str) -> None:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def serve(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        PYTHON, "-m", "gunicorn", "resolutionflow.wsgi", "--workers", str(workers),
        "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        # gthread workers keep a page's connection between its 5-second polls (sync: ignored).
        "--keep-alive", "10",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def wait_until_up(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} did not come up") from None
            time.sleep(0.3)


def fetch_partial(base: str, path: str, cookie: str, etag: str = "") -> tuple[int, str, bytes]:
    headers = {"HX-Request": "true", "Accept-Encoding": "gzip", "Cookie": f"sessionid={cookie}"}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return response.status, response.headers.get("ETag", ""), body
    except urllib.error.HTTPError as answer:  # 304 (and 286) arrive here
        return answer.code, answer.headers.get("ETag", ""), answer.read()


def compare_instances(bases: list[str], plan: dict) -> bool:
    cookie, path = plan["watchers"][0], plan["status_path"]
    answers = [fetch_partial(base, path, cookie) for base in bases]
    etags = {etag for _, etag, _ in answers}
    bodies = {body for _, _, body in answers}
    crossed = fetch_partial(bases[1], path, cookie, etag=answers[0][1])[0]
    same = len(etags) == 1 and len(bodies) == 1 and crossed == 304
    print(
        f"same answers from {' and '.join(bases)}: ETag {answers[0][1]} on both: "
        f"{len(etags) == 1}; identical body ({len(answers[0][2]):,} bytes): {len(bodies) == 1}; "
        f"{bases[1]} answers {crossed} to {bases[0]}'s ETag"
    )
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1, choices=(1, 2))
    parser.add_argument("--workers", type=int, default=4)
    # More than one thread makes gunicorn's gthread workers, which keep connections alive.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--pages", type=int, default=1000, help="open status pages (≤ 1,000)")
    parser.add_argument(
        "--cache",
        choices=("redis", "local"),
        default="redis",
        help="redis: the workers share one cache, as deployed (default); local: per worker",
    )
    args = parser.parse_args()

    database = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DB)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resolutionflow.settings",
        "DATABASE_URL": database,
        "DEBUG": "0",
        "HTTPS": "0",
        # A throw-away database: a fixed key lets you poke at it by hand after a run.
        "SECRET_KEY": "load-test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("REDIS_URL", None)
    if args.instances > 1 or args.cache == "redis":  # workers and servers share the cache
        env["REDIS_URL"] = os.environ.get("LOADTEST_REDIS_URL", DEFAULT_REDIS)
    print(f"database {database}; cache {env.get('REDIS_URL', 'local memory per worker')}")
    recreate_database(database)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "load_default_flows")
    plan_path = ROOT / "var" / "loadtest-plan.json"
    plan_path.parent.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-m", "tests.load.seed", str(plan_path)], cwd=ROOT, env=env, check=True)
    plan = json.loads(plan_path.read_text())

    ports = [args.port + n for n in range(args.instances)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    servers = [serve(env, port, args.workers, args.threads) for port in ports]
    try:
        for base in bases:
            wait_until_up(base)
        users = min(args.pages, len(plan["watchers"])) + len(plan["engineers"])
        rate = min(100, max(10, users // 10))  # users started per second: a ~10 s ramp
        locust = [
            PYTHON, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
            "--headless", "--only-summary", "--reset-stats", "--loglevel", "WARNING",
            "--users", str(users), "--spawn-rate", str(rate),
            "--run-time", f"{args.seconds + -(-users // rate)}s", "--stop-timeout", "5",
        ]  # fmt: skip
        load_env = {
            **env,
            "LOADTEST_PLAN": str(plan_path),
            "LOADTEST_HOSTS": ",".join(bases),
            "LOADTEST_PAGES": str(users - len(plan["engineers"])),
        }
        code = subprocess.run(locust, cwd=ROOT, env=load_env).returncode
        print(GOAL)
        if args.instances > 1 and not compare_instances(bases, plan):
            code = code or 1
        return code
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
