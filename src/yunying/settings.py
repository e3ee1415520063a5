"""Django settings. Everything that differs between machines comes from the environment.

Development (no YUNYING_ENV=production): secrets that are not in the environment are generated once
into var/dev-secrets.json (git-ignored) so `make run` needs no set-up. Production refuses to start
without them.
"""

import json
import logging
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("YUNYING_VAR_DIR", BASE_DIR.parent.parent / "var")).resolve()
PRODUCTION = os.environ.get("YUNYING_ENV") == "production"
# Private (S3): the database, outbox and mail files and the development secrets live here. The
# `yunying` command also sets umask 077 (cli.py), so whatever it creates below is 0600 / 0700.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
VAR_DIR.chmod(0o700)


def _dev_secrets() -> dict:
    """Load or create the development secrets file; never used in production."""
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "YUNYING_SECRET_KEY": secrets.token_urlsafe(50),
        "YUNYING_PII_KEYS": "k1:" + secrets.token_urlsafe(32),
        "YUNYING_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }
    # Created 0600 in one step: never readable by others, not even for a moment.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(json.dumps(values, indent=2))
    return values


def _secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise RuntimeError(f"{name} must be set when YUNYING_ENV=production")
    return _dev_secrets()[name]


SECRET_KEY = _secret("YUNYING_SECRET_KEY")
# Personal-data key ring: "id:base64key,id:base64key"; the first one encrypts, all of them decrypt.
PII_KEYS = _secret("YUNYING_PII_KEYS")
BLIND_INDEX_KEY = _secret("YUNYING_BLIND_INDEX_KEY")

DEBUG = os.environ.get("YUNYING_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("YUNYING_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' assets locally: no CDN at run time (intranets)
    "django_htmx",  # ships the htmx script the pages use, served by the product
    "django_otp",  # TOTP two-factor for operators (console.access)
    "django_otp.plugins.otp_totp",
    "csp",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "yunying.core",
    "yunying.members",
    "yunying.commerce",
    "yunying.risk",
    "yunying.loyalty",
    "yunying.analytics",
    "yunying.promotions",
    "yunying.campaigns",
    "yunying.privacy",
    "yunying.notify",
    "yunying.console",
    "yunying.h5",
]

MIDDLEWARE = [
    "yunying.core.middleware.ProxyClientAddressMiddleware",  # first: everyone after sees the real client
    "yunying.core.middleware.RequestLogMiddleware",  # outermost but one: times and logs every response
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yunying.core.middleware.RequestSizeLimitMiddleware",
    "yunying.core.middleware.ApiMethodNotAllowedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "yunying.h5.guard.DeviceCookieMiddleware",  # the member pages' first-party device id (risk control)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): passed the second factor
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "yunying.core.middleware.DatabaseBusyPageMiddleware",  # innermost: sees the views' exceptions
]

ROOT_URLCONF = "yunying.urls"
WSGI_APPLICATION = "yunying.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "yunying.console.access.console_context",
            ]
        },
    }
]

# SQLite is the embedded default: WAL so readers never wait for the writer, IMMEDIATE so a write
# transaction takes the lock at BEGIN (no deadlock-upgrade "database is locked"), a bounded busy wait.
# synchronous=NORMAL in WAL survives a process crash (acknowledged = committed), not a power loss.
SQLITE_PATH = VAR_DIR / "yunying.sqlite3"
# Every wait for a lock is bounded (DESIGN): past this a request gets 503 core.busy with Retry-After
# instead of hanging — SQLite's writer lock and busy timeout, PostgreSQL's lock_timeout.
DB_LOCK_TIMEOUT_SECONDS = float(os.environ.get("YUNYING_DB_LOCK_TIMEOUT", 5))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c lock_timeout={int(DB_LOCK_TIMEOUT_SECONDS * 1000)}"
        )
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, with writers queued on a file lock instead of sleep-polling
    # (core/sqlite_backend): under a rush the write lock never sits idle.
    DATABASES["default"]["ENGINE"] = "yunying.core.sqlite_backend"
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": DB_LOCK_TIMEOUT_SECONDS,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Tests use a file, not :memory:, so that concurrency tests get one real connection per thread.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}


def task_queue_settings(redis_url: str) -> dict:
    """The task queue on Redis: django-tasks with its RQ backend (django-tasks-rq, on django-rq's queue
    configuration). Short connect and read timeouts: an enqueue runs in the request that committed and
    must not hang on a Redis that went away (`yunying worker` raises the read timeout for its waits)."""
    sep = "&" if "?" in redis_url else "?"
    url = f"{redis_url}{sep}socket_connect_timeout=2&socket_timeout=5"
    return {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": url}},
    }


# REDIS_URL switches on the production extras (seats stay in the database in every mode): a cache
# and rate limits shared by every process, and the task queue that hands a new notification to a
# worker at once (notify.tasks). Without it everything runs on the database and memory, and
# `yunying worker` finds new notifications by polling the outbox.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Risk control's IP classes (data centre, mobile gateway): the packaged seed list unless set (docs/risk.md).
RISK_IP_RANGES_FILE = os.environ.get("YUNYING_RISK_IP_RANGES", "")
# Observe mode (YUNYING_RISK_ENFORCE=0): every event is judged and recorded, cases open, but the entry
# points act on nothing — a new deployment watches its own traffic before it lets the rules refuse.
RISK_ENFORCE = os.environ.get("YUNYING_RISK_ENFORCE", "1") != "0"
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Neither django_tasks nor django_rq is an installed app: the queue needs only these settings, and
    # django_rq's admin imports prometheus_client at start-up, before `yunying serve` has set up its
    # multiprocess metrics directory (core.metrics). No rq admin pages, then: use `rq info -u …`.
    _queue = task_queue_settings(REDIS_URL)
    TASKS = _queue["TASKS"]
    RQ_QUEUES = _queue["RQ_QUEUES"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "yunying"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Bulk import (docs/import.md): a file above these is refused whole; a file up to the inline size is
# checked and imported in the request, a larger one by `yunying worker`. A job whose heartbeat stops
# for the stale time (its worker died) is claimed again, at most the given number of attempts.
IMPORT_MAX_BYTES = int(os.environ.get("YUNYING_IMPORT_MAX_BYTES", 200 * 1024 * 1024))
IMPORT_MAX_ROWS = int(os.environ.get("YUNYING_IMPORT_MAX_ROWS", 2_000_000))
IMPORT_INLINE_MAX_BYTES = 2 * 1024 * 1024
# Pages that take a file: their body limit (core.middleware.body_limit) instead of MAX_REQUEST_BODY_BYTES.
RISK_RULES_MAX_CHARS = 200_000  # the rule editor's limit; its form body is allowed the bytes it takes
UPLOAD_PATHS = {
    "/console/imports/": IMPORT_MAX_BYTES,
    # A rule set of 200,000 characters is ~2 MB form-encoded (a Chinese label's character is 9 bytes).
    "/console/risk/rules/": 9 * RISK_RULES_MAX_CHARS + 64 * 1024,
}
IMPORT_STALE_SECONDS = 120
IMPORT_MAX_ATTEMPTS = 5


LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("YUNYING_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Third-party browser assets, fetched by `yunying assets` from the npm lockfile (core/assets.py) and
# served as /static/vendor/…; outside VAR_DIR so every test run and checkout of one machine shares them.
ASSETS_DIR = Path(os.environ.get("YUNYING_ASSETS_DIR", BASE_DIR.parent.parent / "var" / "assets")).resolve()
ASSETS_DIR.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [("vendor", ASSETS_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Bodies above this are refused with 413 before anything parses them (S7).
MAX_REQUEST_BODY_BYTES = int(os.environ.get("YUNYING_MAX_REQUEST_BODY_BYTES", 64 * 1024))
# Form fields Django reads into memory: as large as the largest non-file body a path accepts (the rule
# editor's); the size middleware has already refused every other path's body past its own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BODY_BYTES, UPLOAD_PATHS["/console/risk/rules/"])

# Rate limits (per minute), counted on Redis with REDIS_URL, else in RATELIMIT_PATH, a SQLite file
# every process on the machine shares (core.ratelimit): the limits hold whatever the worker count.
# Sized for a shop's busiest minute (docs/deploy.md, "Rate limits"): the storefront sends its whole
# rush through one key, so the per-key limit is a ceiling against a runaway or stolen key, far above
# any real rush; what protects a campaign from one abuser is the per-member and per-client-IP limits,
# and the lower limit on refusals per key (probing for members, S3).
RATE_LIMITS = {
    "api_key": int(os.environ.get("YUNYING_RATE_API_KEY", 120_000)),
    "auth_failure_ip": int(os.environ.get("YUNYING_RATE_AUTH_FAILURE_IP", 30)),
    "signup_client_ip": int(os.environ.get("YUNYING_RATE_SIGNUP_IP", 60)),
    "signup_member": int(os.environ.get("YUNYING_RATE_SIGNUP_MEMBER", 20)),
    "signup_refusals_key": int(os.environ.get("YUNYING_RATE_SIGNUP_REFUSALS_KEY", 1200)),
    # single-member reveals per operator key per hour (support's "one at a time" must not become a loop)
    "pii_reveal_hour": int(os.environ.get("YUNYING_RATE_PII_REVEAL_HOUR", 60)),
    # members shown in clear per operator per hour, every path (reveals, lists, exports): past it, the
    # alert pii.reveal_burst (never a refusal: an approved export completes)
    "pii_reveal_members_hour": int(os.environ.get("YUNYING_RATE_PII_REVEAL_MEMBERS_HOUR", 2000)),
    # searches by a member's phone or external id per operator or key per hour (each answers "is this
    # number a member": unlimited, a masked phone's 10,000 candidates give the number back)
    "member_lookup_hour": int(os.environ.get("YUNYING_RATE_MEMBER_LOOKUP_HOUR", 120)),
    # the member pages' coupon centre: claims per member and per client address a minute; code tries
    # per member and per client address an hour (codes are guessed by trying: this is what makes 32^12
    # codes unguessable in practice; a right code gives its try back); points exchanges per member a minute
    "coupon_claim_member": int(os.environ.get("YUNYING_RATE_COUPON_CLAIM_MEMBER", 20)),
    "coupon_claim_ip": int(os.environ.get("YUNYING_RATE_COUPON_CLAIM_IP", 120)),
    "coupon_code_member_hour": int(os.environ.get("YUNYING_RATE_COUPON_CODE_MEMBER_HOUR", 10)),
    "coupon_code_ip_hour": int(os.environ.get("YUNYING_RATE_COUPON_CODE_IP_HOUR", 10)),
    "coupon_points_member": int(os.environ.get("YUNYING_RATE_COUPON_POINTS_MEMBER", 10)),
    # a member's self-service exports of their own data per day (each decrypts everything they hold)
    "privacy_export_member_day": int(os.environ.get("YUNYING_RATE_PRIVACY_EXPORT_MEMBER_DAY", 5)),
}
RATELIMIT_PATH = Path(os.environ.get("YUNYING_RATELIMIT_PATH", VAR_DIR / "ratelimit.sqlite3"))
# Member sign-in by SMS code (members.signin, M1): sends per client address per hour (the per-phone
# limits, 1 a minute, 5 an hour, 10 a day, are the requirement's and fixed), the day's send budget
# over all phones (an alert when reached, sends refused past it), and whether the code is also logged
# (INFO) for a developer to read: never in production. In development the code is delivered by the
# SMS file channel, one JSON line per message in NOTIFY_FILE_DIR/sms.jsonl (var/outbox/sms.jsonl).
SIGNIN_SENDS_PER_IP_HOUR = int(os.environ.get("YUNYING_SIGNIN_SENDS_PER_IP_HOUR", 30))
SMS_DAILY_BUDGET = int(os.environ.get("YUNYING_SMS_DAILY_BUDGET", 5000))
SIGNIN_CODE_LOG = not PRODUCTION and os.environ.get("YUNYING_SIGNIN_CODE_LOG", "1") == "1"
# The privacy notice members accept (M3): its text is the template h5/privacy/<version>.html; a new
# version asks every member again before anything more is collected.
PRIVACY_POLICY_VERSION = os.environ.get("YUNYING_PRIVACY_POLICY_VERSION", "2026-12")

# Retention (PIPL storage limitation), enforced by `yunying worker`: a sign-up's client signals (keyed
# hashes of IP and device id, user agent) are cleared after this many days; idempotency records expire.
CLIENT_DATA_RETENTION_DAYS = int(os.environ.get("YUNYING_CLIENT_DATA_RETENTION_DAYS", 90))
IDEMPOTENCY_RETENTION_HOURS = int(os.environ.get("YUNYING_IDEMPOTENCY_RETENTION_HOURS", 24))
# Members' requests about their data (PIPL arts. 44-47) are answered within this many working days:
# Saturdays and Sundays are skipped, and the public holidays listed here (ISO dates, comma-separated in
# YUNYING_PRIVACY_HOLIDAYS; none by default: set the year's 法定节假日 when deploying).
PRIVACY_REQUEST_WORKING_DAYS = int(os.environ.get("YUNYING_PRIVACY_REQUEST_WORKING_DAYS", 15))
PRIVACY_HOLIDAYS = [d.strip() for d in os.environ.get("YUNYING_PRIVACY_HOLIDAYS", "").split(",") if d.strip()]

# Notification delivery channels: pluggable classes by channel name (N1).
# Segments and lifecycle labels (A4, M5, M6; docs/segments.md defines each label). Days are whole
# days since the last paid order (recency) or since registration.
LIFECYCLE_THRESHOLDS = {
    "new_days": 30,  # registered this recently with at most one order: new
    "active_days": 30,  # ordered this recently: active
    "high_frequency_orders": 5,  # ...with at least this many orders: high-frequency
    "at_risk_orders": 2,  # a repeat buyer whose last order is active_days..dormant_days ago: at risk
    "dormant_days": 180,  # no order for this long (or never, registered this long ago): dormant
}
SEGMENT_RECOMPUTE_MINUTES = int(os.environ.get("YUNYING_SEGMENT_RECOMPUTE_MINUTES", 60))
# 分销 brokerage (docs/loyalty-brokerage.md): commission is held this many days after payment (the
# return window: the points rules' window once an operator saved them, this until then), and members
# bind to a promoter through /m/p/<code>/ (the public address the link shows, ending before /m/).
# Manual points adjustments above this many points need a second operator's approval (loyalty.approve).
LOYALTY_ADJUST_APPROVAL_THRESHOLD = int(os.environ.get("YUNYING_LOYALTY_ADJUST_APPROVAL_THRESHOLD", 1000))
# How long a quote (POST /api/v1/quotes) can be redeemed by the order that follows it, in seconds.
PROMOTIONS_QUOTE_TTL = int(os.environ.get("YUNYING_PROMOTIONS_QUOTE_TTL", 7200))
# Member tiers (docs/loyalty-tiers.md): the channels a member is told a level change on.
LOYALTY_TIER_NOTICE_CHANNELS = ["sms"]
# The channels a data-breach notice reaches affected members on (S6, privacy.breach).
BREACH_NOTICE_CHANNELS = ["sms"]
BROKERAGE_RETURN_WINDOW_DAYS = int(os.environ.get("YUNYING_BROKERAGE_RETURN_WINDOW_DAYS", 7))
BROKERAGE_LINK_BASE = os.environ.get("YUNYING_BROKERAGE_LINK_BASE", "")
RFM_RECOMPUTE_HOURS = int(os.environ.get("YUNYING_RFM_RECOMPUTE_HOURS", 24))

# Risk early warning (docs/risk.md "Early warning"): the last closed window against the same-length
# windows of the baseline before it; a count is a spike when it reaches MIN_COUNT, RATIO × the
# baseline median and the median + SPREAD_K × the robust spread (1.4826 × MAD, at least 1).
RISK_WARNING_WINDOW_MINUTES = int(os.environ.get("YUNYING_RISK_WARNING_WINDOW_MINUTES", 10))
RISK_WARNING_BASELINE_HOURS = int(os.environ.get("YUNYING_RISK_WARNING_BASELINE_HOURS", 24))
RISK_WARNING_MIN_COUNT = int(os.environ.get("YUNYING_RISK_WARNING_MIN_COUNT", 30))
RISK_WARNING_RATIO = float(os.environ.get("YUNYING_RISK_WARNING_RATIO", 3))
RISK_WARNING_SPREAD_K = float(os.environ.get("YUNYING_RISK_WARNING_SPREAD_K", 5))
# A share (virtual numbers, datacentre IPs) alerts when it is this far above the baseline's share.
RISK_WARNING_SHARE_DELTA = float(os.environ.get("YUNYING_RISK_WARNING_SHARE_DELTA", 0.2))
# Who early-warning alerts are e-mailed to through the outbox (comma-separated; empty: console only).
RISK_ALERT_EMAILS = [
    a.strip() for a in os.environ.get("YUNYING_RISK_ALERT_EMAILS", "").split(",") if a.strip()
]

# Each channel's sender (a dotted path to a notify.channels.Channel). SMS and push default to the file
# channel (var/outbox/*.jsonl), which sends nothing: a deployment plugs its provider in here, and
# production warns while it has not (core.checks, yunying.W001).
NOTIFY_CHANNELS = {
    "email": os.environ.get("YUNYING_NOTIFY_EMAIL", "yunying.notify.channels.EmailChannel"),
    "sms": os.environ.get("YUNYING_NOTIFY_SMS", "yunying.notify.channels.FileChannel"),
    "push": os.environ.get("YUNYING_NOTIFY_PUSH", "yunying.notify.channels.FileChannel"),
}
# Who messages go to: members' language and addresses, from the app that owns them (notify imports
# no member code; a function taking member ids, see members.services.member_recipients).
NOTIFY_RECIPIENTS = "yunying.members.services.member_recipients"
# The real-name check (members.identity): a function (name, identity number) -> bool. The built-in one
# checks the number's structure only (GB 11643); a deployment plugs its real-name vendor in here.
IDENTITY_CHECK_PROVIDER = os.environ.get(
    "YUNYING_IDENTITY_CHECK_PROVIDER", "yunying.members.identity.checksum_provider"
)
NOTIFY_FILE_DIR = VAR_DIR / "outbox"
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("YUNYING_NOTIFY_MAX_ATTEMPTS", 8))
EMAIL_BACKEND = os.environ.get("YUNYING_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("YUNYING_FROM_EMAIL", "noreply@yunying.local")
# With YUNYING_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend:
EMAIL_HOST = os.environ.get("YUNYING_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("YUNYING_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("YUNYING_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("YUNYING_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("YUNYING_EMAIL_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("YUNYING_EMAIL_SSL", "0") == "1"
EMAIL_TIMEOUT = 10

# Behind reverse proxies: how many to trust for X-Forwarded-For (0 = use the socket address), the
# header that says the original request was HTTPS, and the origins the admin's forms may come from.
TRUSTED_PROXIES = int(os.environ.get("YUNYING_TRUSTED_PROXIES", 0))
if os.environ.get("YUNYING_PROXY_SSL_HEADER", ""):  # e.g. "HTTP_X_FORWARDED_PROTO"
    SECURE_PROXY_SSL_HEADER = (os.environ["YUNYING_PROXY_SSL_HEADER"], "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("YUNYING_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("YUNYING_SESSION_HOURS", 12)) * 3600  # one working day
CSRF_COOKIE_HTTPONLY = True
LOGIN_URL = "console:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = os.environ.get("YUNYING_OTP_ISSUER", "Yunying")

# Strict Content-Security-Policy on every page (django-csp): scripts, styles, fonts and images from
# this server only — no inline script, nothing from another host (intranets have no CDN). The API's
# Swagger page is the one exception (django-ninja's page sets its config inline).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],  # the attendance page's camera stream
        "frame-src": [SELF],  # the editor's phone preview
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# /metrics answers loopback callers; anyone else must send `Authorization: Bearer <this>` (empty: nobody).
METRICS_TOKEN = os.environ.get("YUNYING_METRICS_TOKEN", "")

# "json": one JSON object per line (time, level, logger, message, extras) for log collectors; "text" to read.
LOG_FORMAT = os.environ.get("YUNYING_LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise RuntimeError(f"YUNYING_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
# No caller look-up (a stack walk) per record: no log line here prints file or line numbers.
logging._srcfile = None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "yunying.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    # Formatted and written off the request thread (core.logs.BackgroundHandler).
    "handlers": {"console": {"()": "yunying.core.logs.BackgroundHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("YUNYING_LOG_LEVEL", "INFO")},
    # django_tasks logs two INFO lines per task run (one per queued notification): failures only.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}
