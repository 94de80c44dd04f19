"""Settings of the test suite (pytest's `DJANGO_SETTINGS_MODULE`, see pyproject.toml, and
`make bench`): the environment-driven settings of `settings.py`, plus what tests need.

Tests run with DEBUG off, over plain http, without a secret of their own; nothing they sign
leaves the process. DATABASE_URL still chooses the database (SQLite when unset)."""

import os

_TEST_SECRET = "insecure-test-key-do-not-use-in-production-0123456789abcdef"
_secret_added = not os.environ.get("SECRET_KEY")
if _secret_added:  # settings.py refuses to start without a secret when DEBUG is off
    os.environ["SECRET_KEY"] = _TEST_SECRET
try:
    from resolutionflow.settings import *  # noqa: F403
    from resolutionflow.settings import BASE_DIR, DATABASES, REST_FRAMEWORK, STORAGES, env_list
finally:
    if _secret_added:
        del os.environ["SECRET_KEY"]  # child processes (manage.py in tests) see the real env

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not shared-cache memory: concurrent tests then wait for the lock as production
    # does, instead of failing with "table is locked".
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}

# Hashing with the real hasher makes every login in the suite cost ~0.3 s.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic to test: WhiteNoise serves from the finders, without a manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The test client and the live server speak plain http.
HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False

# The API reads JSON bodies (and the import a file): the test client sends JSON unless told.
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}

# Generous API rates, so the suites and schemathesis never trip them; the throttling tests set
# their own (the throttles read the rates per request). Counters are cleared between tests.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": "100000/min",
    "user": "100000/min",
    "token_failures": "100000/min",
}
