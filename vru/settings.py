"""Settings, read from the environment with safe defaults. docs/configuration.md lists every variable."""

from __future__ import annotations

import ipaddress
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vru.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test" or "pytest" in sys.modules


def _development_secret_key() -> str:
    # Generated once per checkout and kept out of git, so development never runs on a shared key.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when DJANGO_ENV=production")
    SECRET_KEY = _development_secret_key()

DEBUG = env_bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "csp",
    "core",
    "partners",
    "audit",
    "cases",
    "casework",
    "programmes",
    "followups",
    "sync",
    "governance",
    "wellbeing",
    "reports",
    "sso",
    "web",
    "demo",
]

MIDDLEWARE = [
    # X-Request-ID on every response and the request id on every log line (core/request_id.py).
    "core.request_id.RequestIdMiddleware",
    # Latency and database queries per URL pattern, for /metrics (core/metrics.py).
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # 413 for API request bodies over API_MAX_REQUEST_BYTES, before anything reads them.
    "sync.limits.RequestSizeLimitMiddleware",
    # 400 for a NUL character in the path, query, headers, form or JSON (PostgreSQL cannot store
    # it), before anything queries the database.
    "core.middleware.RejectUnstorableTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cache-Control: no-store on everything the application answers; WhiteNoise, above, answers
    # for static files first, so they keep their long-lived caching.
    "core.middleware.NoStoreMiddleware",
    # With DEBUG, the service's own 404 page (JSON under /api/) instead of Django's technical one.
    "core.error_pages.ServiceNotFoundPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "partners.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # POST /api/v1/*: Idempotency-Key claims, replays and stored responses (sync/idempotency.py).
    "sync.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "vru.urls"
WSGI_APPLICATION = "vru.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'vru.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; the timeout rides out
    # short write locks instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # Every query here is short. PostgreSQL's JIT compiles any plan whose *estimated* cost is
    # high, and the change feed's visibility rule is estimated in the millions: it spent 54 s
    # compiling a query that ran in 26 ms (bench/change_feed.py). Off for our connections.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "partners.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Sessions: an idle timeout and an absolute lifetime (partners.middleware enforces both).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60)
SESSION_ABSOLUTE_LIFETIME = env_int("SESSION_ABSOLUTE_LIFETIME", 10 * 60 * 60, minimum=300)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
PERSONAL_TOKEN_LIFETIME_DAYS = env_int("PERSONAL_TOKEN_LIFETIME_DAYS", 90, minimum=1)
# Failed bearer-token attempts per client address (and per token prefix) before further failed
# attempts get 429 for the rest of the window; a valid token is never refused for them.
TOKEN_FAILURE_LIMIT = env_int("TOKEN_FAILURE_LIMIT", 20, minimum=1)
TOKEN_FAILURE_WINDOW = env_int("TOKEN_FAILURE_WINDOW", 15 * 60, minimum=1)
# The client address behind a reverse proxy (core/addresses.py): the header the proxy sets
# (e.g. X-Forwarded-For) and how many proxies append to it. Unset: REMOTE_ADDR, and no client
# header is believed.
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER").strip()
_header_chars = TRUSTED_PROXY_HEADER.replace("-", "")
if TRUSTED_PROXY_HEADER and not (_header_chars.isascii() and _header_chars.isalnum()):
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_HEADER must be a header name such as X-Forwarded-For, "
        f"not {TRUSTED_PROXY_HEADER!r}"
    )
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=1)

# Login lockout (django-axes): five failures for a user from one address locks it for 30 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "partners.views.lockout_response"
# The same client address as token throttling: REMOTE_ADDR unless TRUSTED_PROXY_HEADER is set.
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
AXES_VERBOSE = False

# Single sign-on with partners' own identity providers (sso/, docs/sso.md): how long a provider's
# discovery document and signing keys are cached (an unknown key id fetches the keys again), and
# how long a call to a provider may take.
SSO_METADATA_CACHE_SECONDS = env_int("SSO_METADATA_CACHE_SECONDS", 3600, minimum=60)
SSO_HTTP_TIMEOUT_SECONDS = env_int("SSO_HTTP_TIMEOUT_SECONDS", 5, minimum=1)
# The sign-in page's email step tells which provider a domain uses: limited per client address.
SSO_EMAIL_STEP_LIMIT = env_int("SSO_EMAIL_STEP_LIMIT", 30, minimum=1)
SSO_EMAIL_STEP_WINDOW_SECONDS = env_int("SSO_EMAIL_STEP_WINDOW_SECONDS", 300, minimum=1)

# Two-factor: TOTP is required for every staff login in production, optional in development.
OTP_REQUIRED = env_bool("OTP_REQUIRED", default=PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "VRU Case Coordination")
# The Django admin never shows a device's secret key or QR code (it would let the viewer make codes).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SECURE_CONTENT_TYPE_NOSNIFF = True
# django-csp 4: no inline script or style anywhere (templates load static files only); Swagger UI
# at /api/docs/ is self-hosted and its start-up script is served as a file (vru/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING or DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REDIS_URL = env_str("REDIS_URL")
# Redis must never hold a request up: short connect and read timeouts, and a circuit breaker that
# sends the cache to local memory (and leaves outbox publishes to the relay) for a few seconds after
# a failure (core/cache.py, core/breaker.py, docs/operations.md).
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT_MS", 250, minimum=1) / 1000
REDIS_BREAKER_OPEN_SECONDS = env_int("REDIS_BREAKER_OPEN_SECONDS", 5, minimum=1)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            },
            "BREAKER_OPEN_SECONDS": REDIS_BREAKER_OPEN_SECONDS,
        }
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/ (no server).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Worker log lines go through LOGGING below (format, request and task ids), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Longer than the longest countdown any task uses (sync.webhooks.RETRY_COUNTDOWN_MAX, 5 minutes)
# plus the longest run of a task, and no longer: a task held by a killed worker comes back after
# this long.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 10 * 60, minimum=60)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # A frozen Redis would otherwise hold a publish (and the request behind it) forever.
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    }
elif TESTING:
    # Tests publish to an in-process queue: nothing is left under var/ for a development worker.
    CELERY_BROKER_URL = "memory://"
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _processed_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
    }

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "VRU Case Coordination <no-reply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partners.authentication.BearerTokenAuthentication",
        "partners.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["partners.api.permissions.HasActor"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Per caller (client or user): 429 with Retry-After (sync/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["sync.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "caller": env_str("API_RATE_LIMIT", "1200/min"),
        "sync": env_str("SYNC_RATE_LIMIT", "300/min"),
    },
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VRU Case Coordination partner API",
    "DESCRIPTION": "Partner API contract v1. See docs/integration.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The one place enums get their names in the OpenAPI document (matched by choice set, wherever
    # a field uses it). Unnamed, drf-spectacular names an enum after its field and warns when two
    # apps use one field name for different choices; a warning fails `check --deploy`.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.CaseStatus",
        "RelationshipKindEnum": "cases.models.RelationshipKind",
        "BreakGlassDecisionEnum": "casework.api.serializers.BREAK_GLASS_DECISIONS",
        "ConsentDecisionEnum": "cases.models.ConsentDecision",
        "RetentionDecisionEnum": "cases.api.serializers.RETENTION_DECISIONS",
        "SubjectAccessStatusEnum": "governance.models.SubjectAccessRequest.Status",
        "CaseworkActionStatusEnum": "casework.models.ActionStatus",
        "CaseworkAdversitySourceEnum": "casework.models.AdversitySource",
        "CaseworkEntryKindEnum": "casework.models.EntryKind",
        "CaseworkEntryVisibilityEnum": "casework.models.EntryVisibility",
        "CaseworkUrgencyEnum": "casework.models.Urgency",
        "ReferralSubjectFoundByEnum": "casework.api.serializers.SUBJECT_FOUND_BY",
        "ScreeningDecisionEnum": "casework.models.ScreeningDecision",
        "ScreeningOutcomeEnum": "casework.models.ScreeningOutcome",
        "ScreeningStatusEnum": "casework.models.ScreeningStatus",
    },
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# One JSON object per line in production (core/log_format.py), readable lines in development; each
# with the request or task id. LOG_REQUESTS adds a line per request (method, URL pattern, status).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOG_REQUESTS = env_bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "core.log_format.RequestContext"},
        "no_traceback_for_refusals": {"()": "core.log_format.NoTracebackForRefusals"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "no_traceback_for_refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default logging gives these handlers of their own besides the root's (every line
        # printed twice, runserver's in another format): here they only pass their lines up.
        "django": {"level": "INFO", "handlers": []},
        "django.server": {"level": "INFO", "handlers": [], "propagate": True},
        "axes": {"level": "WARNING"},
    },
}

# GET /metrics (core/metrics.py): for `Authorization: Bearer <METRICS_TOKEN>`, or for client
# addresses in METRICS_ALLOWED_NETWORKS (CIDR). Loopback in development; nobody otherwise until set.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (a random string)")
METRICS_ALLOWED_NETWORKS = env_list(
    "METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"] if DJANGO_ENV == "development" else []
)
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a network such as 10.0.0.0/8 ({_error})"
        ) from None

# Product rules that administrators tune.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 24, minimum=1)
SCREENING_DEADLINE_HOURS_STANDARD = env_int("SCREENING_DEADLINE_HOURS_STANDARD", 72, minimum=1)
SCREENING_DEADLINE_HOURS_URGENT = env_int("SCREENING_DEADLINE_HOURS_URGENT", 24, minimum=1)
SUPPRESSION_THRESHOLD = env_int("SUPPRESSION_THRESHOLD", 10, minimum=1)

# Partner sync API (sync/, docs/integration.md).
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 4 * 1024 * 1024, minimum=1024)
# A JSON body is read whole to hash it for Idempotency-Key: let it be as large as the API accepts.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, API_MAX_REQUEST_BYTES)
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24, minimum=24)
# Reliability tests kill a web worker at chosen points (sync/idempotency.py). Never in production:
# the switch is only read when DJANGO_ENV=test.
TEST_FAULTS = TESTING and not PRODUCTION and env_bool("TEST_FAULTS", False)
CHANGE_FEED_RETENTION_DAYS = env_int("CHANGE_FEED_RETENTION_DAYS", 90, minimum=1)
# Months a closed case is kept when no data sharing agreement it was shared under says longer.
RETENTION_DEFAULT_MONTHS = env_int("RETENTION_DEFAULT_MONTHS", 72, minimum=1)
# Days a data sharing agreement's review may be overdue before no new share can rely on it.
AGREEMENT_REVIEW_GRACE_DAYS = env_int("AGREEMENT_REVIEW_GRACE_DAYS", 60, minimum=0)
# Months the access log keeps a row (audit/retention.py prunes older ones; at least a year).
ACCESS_LOG_RETENTION_MONTHS = env_int("ACCESS_LOG_RETENTION_MONTHS", 84, minimum=12)
# Months a supervision check-in is kept after the date it was held (wellbeing/retention.py).
SUPERVISION_RETENTION_MONTHS = env_int("SUPERVISION_RETENTION_MONTHS", 24, minimum=12)
# Subject access packs (governance/): a private directory, never served as static or media files.
SUBJECT_ACCESS_DIR = Path(
    env_str("SUBJECT_ACCESS_DIR", str(VAR_DIR / "private" / "subject-access"))
)
# Referral CSV uploads on the web (casework/uploads.py): the largest file accepted, and the private
# directory (never served) an uploaded file waits in until its import finishes.
REFERRAL_UPLOAD_MAX_BYTES = env_int("REFERRAL_UPLOAD_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
REFERRAL_UPLOAD_DIR = Path(
    env_str("REFERRAL_UPLOAD_DIR", str(VAR_DIR / "private" / "referral-uploads"))
)
# An uploaded file within that limit is held in memory, never spooled to the system temp directory.
FILE_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, REFERRAL_UPLOAD_MAX_BYTES)
# Whether a pack names the staff who read or wrote the person's records (else organisation and
# role only).
SUBJECT_ACCESS_NAMES_STAFF = env_bool("SUBJECT_ACCESS_NAMES_STAFF", False)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", default=not PRODUCTION)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 12, minimum=1)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 20, minimum=1)
# Networks (CIDR) an on-premises partner's webhook receiver may be in although not public.
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", [])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network such as 10.20.0.0/16 ({_error})"
        ) from None
