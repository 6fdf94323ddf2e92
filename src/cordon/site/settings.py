"""Django settings. Everything a deployment changes comes from the environment (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parent.parent  # src/cordon
BASE_DIR = Path(os.environ.get("CORDON_HOME", SRC_DIR.parent.parent)).resolve()  # the checkout
VAR_DIR = Path(os.environ.get("CORDON_VAR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("CORDON_DEBUG", False)
_secret_file = VAR_DIR / "secret_key"
SECRET_KEY = os.environ.get("CORDON_SECRET_KEY") or ""
if not SECRET_KEY:
    # A per-installation key kept under ./var; production sets CORDON_SECRET_KEY.
    if not _secret_file.exists():
        import secrets

        _secret_file.write_text(secrets.token_urlsafe(50))
        _secret_file.chmod(0o600)
    SECRET_KEY = _secret_file.read_text().strip()
# Rotating the key (docs/operations.md, "Security"): the old keys, comma-separated, still accepted on what they
# signed (sessions, message cookies) until those expire; new signatures use SECRET_KEY.
SECRET_KEY_FALLBACKS = [
    k.strip() for k in os.environ.get("CORDON_SECRET_KEY_FALLBACKS", "").split(",") if k.strip()
]

ALLOWED_HOSTS = [
    h for h in os.environ.get("CORDON_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CORDON_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "cordon.apps.accounts",
    "cordon.apps.geo",
    "cordon.apps.people",
    "cordon.apps.venues",
    "cordon.apps.audit",
    "cordon.apps.jobs",
    "cordon.apps.tallies",
    "cordon.apps.dataio",
    "cordon.apps.tracing",
    "cordon.apps.control",
    "cordon.apps.screening",
    "cordon.apps.zones",
    "cordon.apps.gridwork",
    "cordon.apps.web",
    "cordon.apps.demo",
    "cordon.apps.simulation",
    "cordon.apps.command",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

# Background jobs (cordon.apps.jobs): django-tasks with its database backend, so the SQLite demo needs no other
# server; `cordon worker` runs them (`cordon serve` and `cordon demo` start one beside the web server). A worker
# that stays silent for CORDON_JOB_STALE_SECONDS is taken as killed and its job marked failed.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Live updates: how often an open page asks for the menu's counts and a live list for its new rows (seconds).
CORDON_LIVE_SECONDS = float(os.environ.get("CORDON_LIVE_SECONDS", 15))
# Kept counts (cordon.apps.tallies): workers recount the open-items board every CORDON_TALLY_SECONDS; a board
# reads them while the last recount is at most CORDON_TALLY_STALE_SECONDS old, and counts live otherwise.
CORDON_TALLY_SECONDS = float(os.environ.get("CORDON_TALLY_SECONDS", 10))
CORDON_TALLY_STALE_SECONDS = float(os.environ.get("CORDON_TALLY_STALE_SECONDS", 120))
# Kept roll-ups (geo.RollupTally): persons, households, buildings and venues per jurisdiction subtree, recounted
# by workers every CORDON_ROLLUP_SECONDS for the home and jurisdiction pages (counted live when older than
# CORDON_ROLLUP_STALE_SECONDS).
CORDON_ROLLUP_SECONDS = float(os.environ.get("CORDON_ROLLUP_SECONDS", 60))
CORDON_ROLLUP_STALE_SECONDS = float(os.environ.get("CORDON_ROLLUP_STALE_SECONDS", 600))
# The commander's home (cordon.apps.command): workers store every city's and district's headline figures of the
# day every CORDON_DAY_FIGURES_SECONDS (the last take of a day is its close, the next day's "yesterday").
CORDON_DAY_FIGURES_SECONDS = float(os.environ.get("CORDON_DAY_FIGURES_SECONDS", 300))
# Daily reports (cordon.apps.command): from this hour (local time, 0-23) a worker makes the reports of the day
# before for the city and each district, once.
CORDON_DAILY_REPORT_HOUR = int(os.environ.get("CORDON_DAILY_REPORT_HOUR", 7))
# The kept timeliness figures (command.TimelinessDay): workers recount the last CORDON_TIMELINESS_RECENT_DAYS report
# days and every day with a pending case every CORDON_TIMELINESS_SECONDS (every kept day each night); the page and
# the API read them while the last refresh is at most CORDON_TIMELINESS_STALE_SECONDS old, and count live otherwise.
CORDON_TIMELINESS_SECONDS = float(os.environ.get("CORDON_TIMELINESS_SECONDS", 120))
CORDON_TIMELINESS_STALE_SECONDS = float(os.environ.get("CORDON_TIMELINESS_STALE_SECONDS", 900))
CORDON_TIMELINESS_RECENT_DAYS = int(os.environ.get("CORDON_TIMELINESS_RECENT_DAYS", 3))
# Zones (cordon.apps.zones): every CORDON_ZONE_EVALUATE_SECONDS a worker evaluates every zone against the rules in
# force and records the transitions they propose (each at most once a day; people decide them).
CORDON_ZONE_EVALUATE_SECONDS = float(os.environ.get("CORDON_ZONE_EVALUATE_SECONDS", 3600))
# The zone map's whole-area answers are kept as files under CORDON_ZONE_MAP_DIR (shared by the web processes and
# the workers, like the uploads); every CORDON_ZONE_MAP_WARM_SECONDS a worker builds the city's and each
# district's anew when the zones changed, so the first open after a change reads a file.
CORDON_ZONE_MAP_DIR = Path(os.environ.get("CORDON_ZONE_MAP_DIR", VAR_DIR / "zonemap")).resolve()
CORDON_ZONE_MAP_WARM_SECONDS = float(os.environ.get("CORDON_ZONE_MAP_WARM_SECONDS", 15))
# Every CORDON_OUTLINE_SECONDS (a day) a worker recomputes the jurisdictions' outlines from the buildings.
CORDON_OUTLINE_SECONDS = float(os.environ.get("CORDON_OUTLINE_SECONDS", 24 * 3600))
# How much lower a worker's CPU priority is than the web server's (os.nice; 0 to leave it equal).
CORDON_WORKER_NICE = int(os.environ.get("CORDON_WORKER_NICE", 10))
CORDON_JOB_HEARTBEAT_SECONDS = float(os.environ.get("CORDON_JOB_HEARTBEAT_SECONDS", 10))
CORDON_JOB_STALE_SECONDS = float(os.environ.get("CORDON_JOB_STALE_SECONDS", 120))
# A job's result file (an export, a batch of PDFs) is deleted this many hours after the job ended.
CORDON_JOB_FILE_HOURS = float(os.environ.get("CORDON_JOB_FILE_HOURS", 24))
# The largest city a simulator run started from the browser or the API may have (cordon.apps.simulation): the
# city-1m preset (1,000,000 residents) takes about half a minute and 1.4 GB; the beijing preset (21.9 million)
# takes a quarter of an hour and 12 GB (docs/benchmarks.md), so it needs this raised on purpose.
CORDON_SIM_MAX_POPULATION = int(os.environ.get("CORDON_SIM_MAX_POPULATION", 1_000_000))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cordon.site.middleware.RequestSizeLimitMiddleware",
    # Last, as django-axes asks: turns a refused sign-in of a locked-out client into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cordon.site.urls"
WSGI_APPLICATION = "cordon.site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cordon.site.context.cordon",
            ],
            "builtins": ["cordon.apps.web.templatetags.local_names"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# DATABASE_URL selects the database; the default is an SQLite file under ./var (WAL mode, see below).
DEFAULT_SQLITE = VAR_DIR / "cordon.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out client before the password is even checked (docs/operations.md,
# "Security").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Every path that sets a password checks it against these: `cordon createuser` (accounts.actions.create_user),
# the admin's user and password forms, and Django's createsuperuser and changepassword commands.
_VALIDATION = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": _VALIDATION + "UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name", "first_name", "last_name", "email")},
    },
    {"NAME": _VALIDATION + "MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": _VALIDATION + "CommonPasswordValidator"},
    {"NAME": _VALIDATION + "NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600

# --- Failed sign-ins (django-axes) ------------------------------------------------------------------------
# Each failed sign-in is counted per user name and client address together; at CORDON_LOGIN_FAILURE_LIMIT
# failures that pair is refused (HTTP 429, even with the right password) until CORDON_LOGIN_COOLOFF_MINUTES
# have passed since its last failure (0: until an administrator unlocks it on /audit/sign-ins/). Every failure is
# kept in axes' failure log and shown to auditors there. CORDON_LOGIN_LOCKOUT chooses what is counted: a comma-
# separated list of "username", "ip_address" or both joined with "+" (any of them at the limit locks).
AXES_FAILURE_LIMIT = int(os.environ.get("CORDON_LOGIN_FAILURE_LIMIT", 5))
_COOLOFF_MINUTES = float(os.environ.get("CORDON_LOGIN_COOLOFF_MINUTES", 15))
AXES_COOLOFF_TIME = dt.timedelta(minutes=_COOLOFF_MINUTES) if _COOLOFF_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = [
    part.split("+") if "+" in part else part
    for part in (p.strip() for p in os.environ.get("CORDON_LOGIN_LOCKOUT", "username+ip_address").split(","))
    if part
]
AXES_RESET_ON_SUCCESS = True  # a successful sign-in clears that pair's count
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure (time, user name, address, locked out or not)
AXES_ENABLE_ADMIN = False  # read on the audit pages; unlocking is an audited action, not an admin delete
AXES_LOCKOUT_CALLABLE = "cordon.apps.accounts.signin.locked_out"
AXES_CLIENT_IP_CALLABLE = "cordon.apps.accounts.signin.client_ip"
AXES_VERBOSE = False
# Behind a proxy, the header it sets to the client's address (e.g. X-Real-IP), so failures are counted per client
# and not per proxy; empty: the connection's address (REMOTE_ADDR).
CORDON_CLIENT_IP_HEADER = os.environ.get("CORDON_CLIENT_IP_HEADER", "")

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("CORDON_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("CORDON_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------
# Front-end libraries come from the npm registry into frontend/node_modules (scripts/bootstrap); only their
# dist folders are served, under /static/vendor/<library>/.
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
_NODE = BASE_DIR / "frontend" / "node_modules"
STATICFILES_DIRS = [
    ("vendor/leaflet", _NODE / "leaflet" / "dist"),
    ("vendor/cytoscape", _NODE / "cytoscape" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Personal data: the volume limit (cordon.core.reads) ------------------------------------------------
# A user who has read this many persons (lists, searches, records, exports, PDFs; a person counts once per
# request) within the window is refused further personal data until the window moves on, and the auditors get an
# alert. 0 turns the limit off.
CORDON_PII_READ_LIMIT = int(os.environ.get("CORDON_PII_READ_LIMIT", 2000))
CORDON_PII_READ_WINDOW = int(os.environ.get("CORDON_PII_READ_WINDOW", 3600))

# --- Uploads --------------------------------------------------------------------------------------------
CORDON_MAX_UPLOAD_BYTES = int(os.environ.get("CORDON_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# Uploaded files waiting for the background job that reads them (an import, a batch of scans), under random
# names; each job deletes its file when it ends. Kept in the storage STORAGES["uploads"] (cordon.core.uploads),
# which web servers and workers must share: by default this folder; CORDON_UPLOAD_STORAGE (a Django storage class)
# and CORDON_UPLOAD_STORAGE_OPTIONS (its options, JSON) point it elsewhere (docs/operations.md).
CORDON_UPLOAD_DIR = Path(os.environ.get("CORDON_UPLOAD_DIR", VAR_DIR / "uploads")).resolve()
# A job that ended without using up its upload (cancelled, its worker lost, an unexpected error) keeps it this
# long so that "Run again" can read it; then it is deleted.
CORDON_UPLOAD_KEEP_HOURS = float(os.environ.get("CORDON_UPLOAD_KEEP_HOURS", 24))
CORDON_UPLOAD_STORAGE = os.environ.get("CORDON_UPLOAD_STORAGE", "")
CORDON_UPLOAD_STORAGE_OPTIONS = json.loads(os.environ.get("CORDON_UPLOAD_STORAGE_OPTIONS", "") or "{}")
STORAGES["uploads"] = (
    {"BACKEND": CORDON_UPLOAD_STORAGE, "OPTIONS": CORDON_UPLOAD_STORAGE_OPTIONS}
    if CORDON_UPLOAD_STORAGE
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # personal data waits here: for Cordon's user only
        "OPTIONS": {
            "location": str(CORDON_UPLOAD_DIR),
            "directory_permissions_mode": 0o700,
            "file_permissions_mode": 0o600,
        },
    }
)

# --- Application ----------------------------------------------------------------------------------------
CORDON_CITY_NAME = os.environ.get("CORDON_CITY_NAME", "")
CORDON_SITE_TITLE = _("Cordon")
CORDON_PAGE_SIZE = 50

# --- Tracing ------------------------------------------------------------------------------------------
# The scan store: a Parquet dataset partitioned by date (docs/tracing.md).
CORDON_SCAN_DIR = Path(os.environ.get("CORDON_SCAN_DIR", VAR_DIR / "scans")).resolve()
# The demo's simulator run (its tables, the map to the register, and how many days have been played).
CORDON_DEMO_DIR = Path(os.environ.get("CORDON_DEMO_DIR", VAR_DIR / "sim" / "demo")).resolve()
CORDON_SCAN_RETENTION_DAYS = int(os.environ.get("CORDON_SCAN_RETENTION_DAYS", 28))
CORDON_PATHOGEN_PROFILE = os.environ.get("CORDON_PATHOGEN_PROFILE", "covid19-omicron")
CORDON_TRACE_MARGIN_MINUTES = int(os.environ.get("CORDON_TRACE_MARGIN_MINUTES", 0))
CORDON_HUB_MIN_OVERLAP_MINUTES = int(os.environ.get("CORDON_HUB_MIN_OVERLAP_MINUTES", 15))
CORDON_MIN_OVERLAP_MINUTES = int(os.environ.get("CORDON_MIN_OVERLAP_MINUTES", 0))
CORDON_LINKAGE_ACK_HOURS = float(os.environ.get("CORDON_LINKAGE_ACK_HOURS", 2))
# Close-contact control: hours a judgment may wait before the contact counts as overdue on the board (the
# transfer deadline itself comes from the quarantine plan), and the font that PDFs (quarantine orders, release
# certificates) embed; empty = the first CJK font found on the system (fonts-noto-cjk and others).
CORDON_JUDGE_HOURS = float(os.environ.get("CORDON_JUDGE_HOURS", 4))
CORDON_PDF_FONT = os.environ.get("CORDON_PDF_FONT", "")
# Maps draw on a blank canvas by default; a tile URL template (``{z}/{x}/{y}``) adds a base layer under the zones.
CORDON_MAP_TILE_URL = os.environ.get("CORDON_MAP_TILE_URL", "")
# Mass screening: hours within which a person of a positive pool must be re-sampled in a single tube.
CORDON_RESAMPLE_HOURS = float(os.environ.get("CORDON_RESAMPLE_HOURS", 6))

# --- Input -----------------------------------------------------------------------------------------------
# Plausible dates (cordon.core.inputs), as (years back, years ahead) of today: an event's date or time (a scan,
# an onset, a sample, an order, a round) and a birth date; the API, the import and scan ingestion refuse others.
CORDON_PLAUSIBLE_DATES = {
    "event": (
        int(os.environ.get("CORDON_PLAUSIBLE_EVENT_YEARS_BACK", 5)),
        int(os.environ.get("CORDON_PLAUSIBLE_EVENT_YEARS_AHEAD", 1)),
    ),
    "birth": (int(os.environ.get("CORDON_PLAUSIBLE_BIRTH_YEARS_BACK", 120)), 0),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CORDON_LOG_LEVEL", "WARNING")},
}

# --- HTTPS and the proxy (docs/operations.md, "Serving behind a reverse proxy with HTTPS") -----------------
# Production runs behind a proxy that terminates TLS (CORDON_HTTPS=1): cookies are secure and a request counts as
# HTTPS when the proxy says so. The proxy also redirects plain HTTP to HTTPS and sends HSTS (the nginx example in
# docs/operations.md does both), so Django does neither and `cordon manage check --deploy` is told so explicitly.
# Django's redirect would also send /healthz, asked on the loopback address without the proxy's header, away.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CORDON_HTTPS = _env_bool("CORDON_HTTPS", False)
SILENCED_SYSTEM_CHECKS: list[str] = []
if CORDON_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Handed to the proxy: HSTS (security.W004) and the HTTP-to-HTTPS redirect (security.W008).
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008"]
