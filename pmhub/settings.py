"""PMHub settings: one module, configured by environment variables.

Every value has a safe default for the embedded mode (SQLite, tasks inline).
Helpers fail loudly on malformed values instead of guessing.
"""

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true/false, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)
# LOG_FORMAT=json: one JSON object per line (time, level, logger, message,
# request_id, exception); text otherwise. Every record carries the request id
# of the request (or of the request that enqueued the task) it belongs to.
LOG_FORMAT = env_str("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")

# Commands that only read code (never sign, serve or touch user data) run
# without a key, so `manage.py makemigrations --check` works on a fresh clone.
KEYLESS_COMMANDS = {"makemigrations", "collectstatic"}
_COMMAND = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or _COMMAND in KEYLESS_COMMANDS:
        SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for local development)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Absolute URLs (share links, invite links, API "next", links in emails sent
# by workers, which have no request to read the host from) use this when set.
# `make run` serves on 127.0.0.1:$PORT, so development defaults to that.
SITE_URL = env_str(
    "SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}" if DEBUG else ""
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "pmhub.accounts",
    "pmhub.activity",
    "pmhub.webhooks",
    "products",
    "metrics",
    "backlog",
    "roadmaps",
    "feedback",
    "specs",
    "questions",
    "discussions",
    "archive",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) and the latency of every request.
    "pmhub.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pmhub.activity.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pmhub.middleware.RejectUnstorableTextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a sign-in that django-axes refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pmhub.urls"
WSGI_APPLICATION = "pmhub.wsgi.application"

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
                "django.template.context_processors.csp",
                "pmhub.accounts.context_processors.workspace_nav",
                "pmhub.accounts.context_processors.product_tabs",
                "pmhub.undo.undo_toast",
                "pmhub.onboarding.firstrun_context",
            ],
            # Project-wide filters (markdown, fmt_number, ago, ...): available in
            # every template without {% load %}; loadable by name as well.
            "builtins": ["pmhub.templatetags.pmhub_tags"],
            "libraries": {
                "pmhub_tags": "pmhub.templatetags.pmhub_tags",
                "live_tags": "pmhub.templatetags.live_tags",
            },
        },
    }
]

# --- database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
    # Behind PgBouncer in transaction mode (web processes; docs/deployment.md):
    # no server-side cursors and no prepared statements, which live in a
    # server session that the next transaction may not get.
    if env_bool("DB_TRANSACTION_POOLING", False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL + a busy timeout let the dev server and inline tasks share the file.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)
SIGNUP_LIMIT = (env_int("SIGNUP_LIMIT", 10), 3600)  # new accounts per client address and hour
INVITE_TTL_DAYS = env_int("INVITE_TTL_DAYS", 7)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party front-end code comes from npm (package-lock.json), never committed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/sortablejs", BASE_DIR / "node_modules" / "sortablejs"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    # Only the accessibility tests inject axe-core into pages; no template loads it.
    ("vendor/axe-core", BASE_DIR / "node_modules" / "axe-core"),
]
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

# Development serves static files from their sources, no collectstatic needed.
WHITENOISE_AUTOREFRESH = DEBUG

# --- files: media, exports and imports (archive app) --------------------------
# Background exports (workspace archives, big CSVs) and uploaded archives go
# through Django's default storage: a local directory (MEDIA_ROOT; a volume
# in docker-compose) unless STORAGE_S3_BUCKET names an S3-compatible bucket
# (django-storages). Every web process and worker must see the same storage.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: downloads go through a permission check
EXPORT_FILES_TTL_HOURS = env_int("EXPORT_FILES_TTL_HOURS", 7 * 24)
STORAGE_S3_BUCKET = env_str("STORAGE_S3_BUCKET")
if STORAGE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": env_str("STORAGE_S3_ENDPOINT_URL") or None,
            "region_name": env_str("STORAGE_S3_REGION") or None,
            "access_key": env_str("STORAGE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("STORAGE_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("STORAGE_S3_PREFIX"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- security -------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# The client's address behind load balancers: how many proxies in front of
# PMHub append to X-Forwarded-For (0: trust no header, use REMOTE_ADDR).
# Every abuse limit keys on it (pmhub/clientip.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# --- sign-in throttling (django-axes) ----------------------------------------
# Failed sign-ins (the login page, the admin login, and failed API tokens) are
# counted per client address and per account at that address, in the database
# (shared by every web process; no per-process cache to get wrong).
# Past LOGIN_FAILURE_LIMIT within the cool-off, that address is refused (429,
# with the time to retry) until LOGIN_COOLOFF_SECONDS after its last counted
# failure; attempts while refused do not extend it. Never keyed on the account
# alone, so an attacker cannot lock the real user out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_DISABLE_ACCESS_LOG = True  # no row per successful sign-in
AXES_VERBOSE = False
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = dt.timedelta(seconds=env_int("LOGIN_COOLOFF_SECONDS", 900))
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "pmhub.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "pmhub.accounts.lockout.lockout_response"
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_SECONDS must be positive")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pmhub.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "pmhub.accounts.permissions.TokenScopePermission",
    ],
    # JSON only: a form body cannot say a number from a string or null from
    # "", so the schema could not hold for it (415 Unsupported Media Type).
    "DEFAULT_PARSER_CLASSES": ["pmhub.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pmhub.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "pmhub.api.schema.PMHubAutoSchema",
    "EXCEPTION_HANDLER": "pmhub.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "pmhub.api.throttles.UserThrottle",
        "pmhub.api.throttles.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "1200/min"),
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The anonymous throttle keys on the same client address as everything else.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PMHub API",
    "DESCRIPTION": (
        "Products and strategy, the backlog and its scoring, roadmaps and share links, "
        "customer feedback, and post-launch metrics of PMHub. "
        "Authenticate with `Authorization: Bearer <token>`. Lists are keyset-paginated: "
        "follow `next`. Writes accept `If-Match` with the object's ETag; a stale one gets 412."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "pmhub.accounts.models.Role",
        "CustomFieldKindEnum": "backlog.models.FieldKind",
        "KindEnum": "backlog.models.ScoringKind",
        "ItemStatusEnum": "backlog.models.Status",
        "ObjectiveStatusEnum": "products.models.ObjectiveStatus",
        "SpecStateEnum": "specs.models.SpecState",
        "SpecVerdictEnum": "specs.models.Verdict",
        "SpecDecisionEnum": "specs.models.DECISIONS",
        "FeedbackStateEnum": "feedback.models.State",
        "ArchiveJobStateEnum": "archive.models.JobState",
    },
}

# --- operator's view ------------------------------------------------------------
# /metrics answers Prometheus scrapes that send "Authorization: Bearer <token>";
# without a token the endpoint does not exist (404).
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- cache ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The cache may live in its own Redis database (CACHE_URL): cache.clear()
# flushes the whole database, which would also drop queued Celery messages.
CACHE_URL = env_str("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "pmhub.cache.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Activity ---------------------------------------------------------------
# Events older than this many days are deleted by the hourly purge; 0 keeps all.
ACTIVITY_RETENTION_DAYS = env_int("ACTIVITY_RETENTION_DAYS", 365)

# --- Live updates (docs/live.md) ----------------------------------------------
# Redis for the streams' wake-ups (pub/sub) and presence; without it streams
# poll the event log and presence lives in this process (embedded mode).
LIVE_REDIS_URL = env_str("LIVE_REDIS_URL", REDIS_URL)
# Off: writes publish nothing to Redis (streams then find changes by polling).
LIVE_PUBLISH = env_bool("LIVE_PUBLISH", True)
# Seconds between a stream's reads of the log when no wake-up arrives.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 3)
# A stream ends after this many seconds and the browser resumes it from its
# Last-Event-ID (gives a threaded server's thread back; re-checks the session).
LIVE_STREAM_SECONDS = env_int("LIVE_STREAM_SECONDS", 600)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
# No broker configured: run tasks inline (embedded mode).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    # Eager apply_async still takes a producer from the broker connection pool;
    # with no URL kombu falls back to amqp://localhost and logs a warning.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits stay below the broker's visibility timeout, so a task is never
# redelivered while it is still running.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# JSON logs: workers log through LOGGING too (Celery's own setup would
# replace the root handler with its text format).
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
CELERY_BEAT_SCHEDULE = {
    "activity-dispatch": {
        "task": "activity.dispatch",
        "schedule": env_int("ACTIVITY_DISPATCH_SECONDS", 60),
    },
    "activity-purge": {
        "task": "activity.purge",
        "schedule": env_int("ACTIVITY_PURGE_SECONDS", 3600),
    },
    "sweep-score-recomputes": {
        "task": "backlog.tasks.sweep_score_recomputes",
        "schedule": env_int("SCORE_SWEEP_SECONDS", 60),
    },
    "sweep-metric-rollups": {
        "task": "metrics.tasks.sweep_metric_rollups",
        "schedule": env_int("ROLLUP_SWEEP_SECONDS", 60),
    },
    "sweep-demand": {
        "task": "feedback.tasks.sweep_demand",
        "schedule": env_int("DEMAND_SWEEP_SECONDS", 60),
    },
    "decay-demand": {
        "task": "feedback.tasks.decay_demand",
        "schedule": env_int("DEMAND_DECAY_SECONDS", 24 * 3600),
    },
    "sweep-notification-emails": {
        "task": "discussions.tasks.sweep_notification_emails",
        "schedule": env_int("NOTIFICATION_EMAIL_SWEEP_SECONDS", 60),
    },
    "notification-digest": {
        "task": "discussions.tasks.build_digests",
        "schedule": env_int("NOTIFICATION_DIGEST_SECONDS", 24 * 3600),
    },
    "sweep-webhook-deliveries": {
        "task": "pmhub.webhooks.tasks.sweep_webhook_deliveries",
        "schedule": env_int("WEBHOOK_SWEEP_SECONDS", 60),
    },
    "sweep-answer-emails": {
        "task": "questions.tasks.sweep_answer_emails",
        "schedule": env_int("ANSWER_EMAIL_SWEEP_SECONDS", 60),
    },
    "sweep-archive-jobs": {
        "task": "archive.tasks.sweep_archive_jobs",
        "schedule": env_int("ARCHIVE_SWEEP_SECONDS", 300),
    },
}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT")

# --- webhooks -------------------------------------------------------------------
# Networks webhooks may reach although they are not public (comma-separated
# CIDRs, e.g. "127.0.0.0/8" for a receiver on this machine in development).
WEBHOOK_ALLOW_NETWORKS = env_list("WEBHOOK_ALLOW_NETWORKS", "")
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 5)
WEBHOOK_READ_TIMEOUT = env_int("WEBHOOK_READ_TIMEOUT", 10)
for _network in WEBHOOK_ALLOW_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOW_NETWORKS: {_network!r} is not a CIDR") from exc
# An attempt must end well within its one-minute lease (the answer is read
# for at most connect + read timeout), or a second worker could take it over.
if not 0 < WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT <= 45:
    raise ImproperlyConfigured("WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT must be 1–45 s")

# Django 6.1's MAILERS. In development the console backend prints mail to the log;
# production defaults to SMTP, configured by EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ...
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": {
            key.lower(): value
            for key, value in {
                "host": env_str("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", 0) or None,
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", False) or None,
            }.items()
            if value
        }
        if "smtp" in EMAIL_BACKEND_PATH
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "pmhub@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "pmhub.observability.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "pmhub.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Eager tasks (the embedded default) would log one "Task … succeeded" line
    # per task into `make run`'s output; workers log them as usual.
    "loggers": {
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
