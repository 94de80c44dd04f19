"""ResolutionFlow settings: one module, configured from the environment.

No DATABASE_URL means the embedded SQLite database, so a newcomer needs only Python.
With DEBUG off a SECRET_KEY is required and the HTTPS hardening of `check --deploy` is on.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as `60/min`; a typo fails at start-up, not on the first request."""
    value = os.environ.get(name, "").strip() or default
    count, _, period = value.partition("/")
    if not count.isdigit() or period[:1] not in {"s", "m", "h", "d"}:
        raise ImproperlyConfigured(f"{name} must look like 60/min (per s, min, hour or day).")
    return value


def axes_lockout_parameters(value: str) -> list[list[str]]:
    """`username,ip_address` locks each separately; `username+ip_address` only the pair."""
    return [
        [part.strip() for part in item.split("+") if part.strip()]
        for item in value.split(",")
        if item.strip()
    ]


# Tests use `resolutionflow/settings_test.py`, which builds on this module.
DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (e.g. `export SECRET_KEY=$(openssl rand "
            "-base64 48)`), or set DEBUG=1 for local development."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "flows",
    "steplibrary",
    "sessions.apps.FlowSessionsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "resolutionflow.middleware.PermissionsPolicy",
    # Last, so it refuses unstorable text after the CSRF check and before any view runs.
    "resolutionflow.middleware.RejectUnstorableText",
    # Turns a login refused by django-axes into the lockout page (see AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "resolutionflow.urls"
WSGI_APPLICATION = "resolutionflow.wsgi.application"
ASGI_APPLICATION = "resolutionflow.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.membership",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Writers queue (BEGIN IMMEDIATE) instead of failing with "database is locked" when two
    # requests update the same session at once; the embedded database serves few users.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Without REDIS_URL the cache is Django's LocMemCache: per process, so each app server (and each
# worker) keeps its own API throttle counters. Several servers should share Redis.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "resolutionflow.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    # Logins are read from Redis on every request (a batch page polls every 5 s) and written
    # through to the database, which stays the record.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
# "/" sends engineers and above to their dashboard, viewers to the flow library.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

WHITENOISE_USE_FINDERS = DEBUG  # no collectstatic needed to develop

MESSAGE_TAGS = {40: "danger"}  # Bootstrap's name for the error colour.

# HTTPS hardening is on unless DEBUG; an intranet served over plain http sets HTTPS=0.
HTTPS = env_bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): everything from this origin, no inline script, no inline
# style, no eval, no third-party origin. Behaviour lives in static/js; per-element sizes are set
# by app.js from data- attributes. Swagger UI loads its init script from a URL (split view).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Browser features the app never uses are switched off; copy buttons need clipboard-write.
# clipboard-read keeps the browser's default (this origin, after the user's permission prompt).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "picture-in-picture": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
    "clipboard-write": ["self"],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous script gets 401 with a WWW-Authenticate header.
        "accounts.api.authentication.TokenAuthentication",
        "accounts.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: nested fields cannot be sent as a form. The import also takes a file upload.
    "DEFAULT_PARSER_CLASSES": ["resolutionflow.api.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "resolutionflow.schema.AutoSchema",
    "EXCEPTION_HANDLER": "resolutionflow.api.exception_handler",
    # `?format=` names an export format on /api/sessions/{id}/export/, not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
    # Counted in the cache (Redis when REDIS_URL is set); over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "resolutionflow.throttling.AnonRateThrottle",
        "resolutionflow.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_ANON", "60/min"),
        "user": env_rate("THROTTLE_USER", "600/min"),
        # Wrong API tokens per client address (accounts.api.authentication.TokenAuthentication).
        "token_failures": env_rate("THROTTLE_TOKEN_FAILURES", "20/hour"),
    },
    "NUM_PROXIES": 0,  # throttle by REMOTE_ADDR: a client-sent X-Forwarded-For is not trusted
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ResolutionFlow API",
    "DESCRIPTION": "Flows, sessions, batches, target lists and the step library, for scripts. "
    "Authenticate with `Authorization: Token <key>` (create a key on your profile page).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TreeStatusEnum": "flows.models.TreeStatus",
        "SessionStatusEnum": "sessions.models.SessionStatus",
        "HealthFlagEnum": "sessions.analytics.FLAG_CHOICES",
    },
}

# Brute force on the login page (django-axes). Attempts are AccessAttempt rows in the database,
# which every app server shares and the admin lists (with a reset action).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = axes_lockout_parameters(
    os.environ.get("AXES_LOCKOUT_PARAMETERS", "username,ip_address")
)
AXES_VERBOSE = False  # no start-up banner on every manage.py command; lockouts are still logged
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failure, listed in the admin ("Access failures")
# A success does not wipe the failures: axes would wipe those of the whole address, so an
# attacker could reset a victim's count by logging in to an account of their own in between.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"  # the login form's e-mail field
AXES_USERNAME_CALLABLE = "accounts.lockout.username_from_credentials"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # proxies set it; no header is trusted

# E-mail (invitations, password resets): printed to the console unless EMAIL_HOST is set.
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ResolutionFlow <noreply@localhost>")
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# The login of the account that owns the default flows and their library entries.
SERVICE_ACCOUNT_EMAIL = "noreply@resolutionflow.com"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Step health (analytics): every threshold in one place. Counts look back `window_days`.
STEP_HEALTH = {
    "window_days": 90,
    "abandoned_after_days": 7,  # in progress and untouched this long = abandoned
    "often_skipped_share": 0.40,  # skipped in at least this share ...
    "often_skipped_min_runs": 10,  # ... of at least this many completed runs
    "unhelpful_min_downs": 3,  # at least this many thumbs down, and more downs than ups
    "patched_share": 0.30,  # a custom step inserted right after it in this share of runs
    "patched_min_runs": 10,  # (the issue names no minimum: as for skipping)
    "dead_branch_min_runs": 20,  # no session reached the node while the flow ran this often
    "stale_after_days": 180,  # not verified for this long
}

# Custom steps proposed back to a flow's owners: the same custom step (same place, same or
# near-same title) added in at least `min_runs` runs by at least `min_engineers` engineers in
# the last `window_days`. Near-same = equal once normalised (case, punctuation, spaces) or at
# least `similarity` alike (difflib ratio of the normalised titles).
STEP_SUGGESTIONS = {
    "min_runs": 3,
    "min_engineers": 2,
    "window_days": 60,
    "similarity": 0.85,
}
