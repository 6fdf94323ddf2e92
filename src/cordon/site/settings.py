"""Django settings. Everything a deployment changes comes from the environment (docs/operations.md)."""

from __future__ import annotations

import os
from pathlib import Path

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
    "cordon.apps.web",
    "cordon.apps.demo",
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
# How much lower a worker's CPU priority is than the web server's (os.nice; 0 to leave it equal).
CORDON_WORKER_NICE = int(os.environ.get("CORDON_WORKER_NICE", 10))
CORDON_JOB_HEARTBEAT_SECONDS = float(os.environ.get("CORDON_JOB_HEARTBEAT_SECONDS", 10))
CORDON_JOB_STALE_SECONDS = float(os.environ.get("CORDON_JOB_STALE_SECONDS", 120))

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
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Uploads --------------------------------------------------------------------------------------------
CORDON_MAX_UPLOAD_BYTES = int(os.environ.get("CORDON_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# Uploaded files waiting for the background job that reads them (an import, a batch of scans), under random
# names; each job deletes its file when it ends. Web servers and workers must share this folder.
CORDON_UPLOAD_DIR = Path(os.environ.get("CORDON_UPLOAD_DIR", VAR_DIR / "uploads")).resolve()

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

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if _env_bool("CORDON_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
