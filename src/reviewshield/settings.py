"""Settings, all from the environment.

DATABASE_URL            default: a SQLite file in the data folder (WAL, BEGIN IMMEDIATE)
REVIEWSHIELD_DATA_DIR   default: ./data — SQLite file, uploads, the generated secret key
SECRET_KEY              default: generated once and kept in the data folder (local use only)
REVIEWSHIELD_DEBUG      "1" for Django's debug pages
REVIEWSHIELD_ALLOWED_HOSTS  comma-separated, default "localhost,127.0.0.1,[::1],testserver"
REVIEWSHIELD_RULESET_DIRS   extra folders of ruleset TOML files (os.pathsep-separated)
REVIEWSHIELD_HANDLER_MODULES  extra deadline-handler modules the worker imports (comma-separated)
REVIEWSHIELD_LOG_LEVEL  default INFO
REVIEWSHIELD_QUEUE_REFRESH_SECONDS  how often an open agent queue refreshes itself, default 30
REVIEWSHIELD_LOG_ORIGIN  the evidence log's name in its checkpoints, default "reviewshield.local/evidence"
REVIEWSHIELD_LOG_KEY_FILE  the log's Ed25519 signing key, default <data dir>/log-ed25519.key (created)
REVIEWSHIELD_CHECKPOINT_SECONDS  how often the worker signs a checkpoint of a grown log, default 60
REVIEWSHIELD_EVIDENCE_DIR  where evidence files are stored locally, default <data dir>/evidence
REVIEWSHIELD_EVIDENCE_S3_BUCKET  store evidence in S3 instead (with _ENDPOINT, _REGION, _ACCESS_KEY, _SECRET_KEY)
REVIEWSHIELD_VIDEO_MAX_MB  the largest unboxing video accepted, default 500
REVIEWSHIELD_IMAGE_MAX_PIXELS  larger images are refused as decompression bombs, default 60,000,000
REVIEWSHIELD_CLAMD  optional virus scanner, tcp://host:port or unix:///path (fails closed when set)
REVIEWSHIELD_TSA_URL  an RFC 3161 time-stamping authority that timestamps each signed checkpoint;
                      empty (the default) = no timestamps, no outside calls
REVIEWSHIELD_TSA_CA_FILE  PEM with that TSA's root (and intermediate) certificates: its answers must
                      chain to them, and bundles carry them as tsa-ca.pem; empty = signatures unchecked
REVIEWSHIELD_TSA_TIMEOUT_SECONDS  how long the worker waits for the TSA, default 10
REVIEWSHIELD_WEBHOOK_TIMEOUT_SECONDS  how long the worker waits for a webhook receiver, default 10
REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS  pause after a webhook's first failed attempt, doubling each time
                      (at most 6 h), default 30
REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS  attempts before a webhook delivery is given up, default 12
REVIEWSHIELD_DB_CONN_MAX_AGE  seconds a thread keeps its database connection between requests,
                         default 600 (checked before each reuse); 0 opens one per request
REVIEWSHIELD_SQLITE_CACHE_MB  SQLite's page cache per connection, default 64 (SQLite's own is 2)
REVIEWSHIELD_HTTPS      "1" when people reach the site over HTTPS (production): redirect http to
                        https, Secure session and CSRF cookies, HSTS
REVIEWSHIELD_HSTS_SECONDS  how long browsers keep to HTTPS, default 31536000 (a year); with
                        REVIEWSHIELD_HSTS_INCLUDE_SUBDOMAINS and REVIEWSHIELD_HSTS_PRELOAD, default "1"
REVIEWSHIELD_TRUSTED_PROXY  the address of the reverse proxy that ends TLS in front of `reviewshield
                        serve` (e.g. 127.0.0.1): its X-Forwarded-Proto says whether a request came
                        over HTTPS; the header is dropped from anyone else. Empty (default) = none
REVIEWSHIELD_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://rs.example) allowed to post forms
REVIEWSHIELD_LOGIN_FAILURE_LIMIT  wrong passwords for one username from one address before logging in
                      is locked, default 5
REVIEWSHIELD_LOGIN_COOLOFF_MINUTES  how long that lock lasts, default 15
REVIEWSHIELD_LIMITS   per-actor limits as "name=count/seconds,…" over the defaults in LIMIT_DEFAULTS
                      (complaint_file, evidence_upload, appeal_file, extortion_report, chat_evidence,
                      bearer_failure); a count of 0 turns that limit off

Everything the program creates in the data folder is its owner's only (folders 0700, files 0600):
the SQLite file and its -wal/-shm, the secret key, the log's signing key, the evidence store.
"""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
# The data folder holds buyers' personal data, their evidence and the keys: nobody but the owner
# may read what this process creates (folders 0700, files 0600). The umask covers every file made
# later (SQLite's -wal and -shm, evidence, checkpoints, bundles); the modes below say it explicitly
# for the ones made here.
os.umask(0o077)
DATA_DIR = Path(os.environ.get("REVIEWSHIELD_DATA_DIR", Path.cwd() / "data")).resolve()
if not DATA_DIR.exists():
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Written with O_EXCL so two processes starting at once cannot end up with different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("REVIEWSHIELD_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("REVIEWSHIELD_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(
    ","
)

# Production serves over HTTPS (REVIEWSHIELD_HTTPS=1): plain http is redirected, the session and CSRF
# cookies are sent over HTTPS only, and browsers are told to use nothing else (HSTS).
REVIEWSHIELD_HTTPS = os.environ.get("REVIEWSHIELD_HTTPS") == "1"
if REVIEWSHIELD_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("REVIEWSHIELD_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("REVIEWSHIELD_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("REVIEWSHIELD_HSTS_PRELOAD", "1") == "1"
# Behind a proxy that ends TLS, the web server (waitress in `reviewshield serve`; gunicorn by its own
# forwarded_allow_ips) takes the scheme from that proxy's X-Forwarded-Proto only — not Django's
# SECURE_PROXY_SSL_HEADER, which would believe the header from whoever sent it.
REVIEWSHIELD_TRUSTED_PROXY = os.environ.get("REVIEWSHIELD_TRUSTED_PROXY", "").strip()
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("REVIEWSHIELD_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # /api/docs from its own static files (Swagger UI), not a CDN: works offline and under the CSP
    "template_partials",  # {% partialdef %}: one template gives the page and its live fragment
    "reviewshield.accounts",
    "reviewshield.policystore",
    "reviewshield.marketplace",
    "reviewshield.cases",
    "reviewshield.deadlines",
    "reviewshield.outbox",
    "reviewshield.evidence",
    "reviewshield.chat",
    "reviewshield.webhooks",
    "reviewshield.sanctions",
    "reviewshield.extortion",
    "reviewshield.forensics",
    "reviewshield.detection",
    "reviewshield.web",
    "reviewshield.limits",
    "axes",  # login lockout; its AccessAttempt records are in the admin
    "reviewshield",  # the project-wide management commands (serve, worker, demo, import, policy)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "reviewshield.api.middleware.api_error_envelope",  # every /api/ error as JSON, in that language
    "reviewshield.web.middleware.business_timezone",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "reviewshield.web.middleware.private_no_store",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns its lockout signal into limits.login.lockout's page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every page: scripts, styles, images and fonts from this site only — no
# inline <script>, no on* attributes, no <style> blocks (JavaScript and CSS live in web/static/), no
# plugins, no framing, forms post back here only. Style *attributes* stay allowed (style-src-attr):
# the templates and Django's admin use a few, and they can neither run code nor read the page.
# Swagger UI at /api/docs is served from django-ninja's own static files (no CDN), under the same
# policy. Evidence downloads carry their own stricter `sandbox` policy (evidence/downloads.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "reviewshield.urls"
WSGI_APPLICATION = "reviewshield.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reviewshield.web.notifications.unread_notifications",
            ]
        },
    }
]

_default_db = f"sqlite:///{DATA_DIR / 'reviewshield.sqlite3'}"
# Each web thread keeps its connection between requests (checked before reuse): opening one per
# request cost a PostgreSQL backend start, or on SQLite an empty page and statement cache, on every
# call — the screening API's batches took a third longer over HTTP than in-process because of it.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=int(os.environ.get("REVIEWSHIELD_DB_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _sqlite_file = str(DATABASES["default"]["NAME"])
    if _sqlite_file != ":memory:" and not _sqlite_file.startswith("file:"):
        # Created empty (a valid SQLite database) and owner-only before SQLite first opens it:
        # SQLite gives the -wal and -shm files the database file's own mode.
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.close(os.open(_sqlite_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a transaction
    # starts, so two workers never deadlock upgrading a read lock ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        # A page cache of 64 MiB per connection, where SQLite's own 2 MiB held less than a
        # screening batch reads: its pages were read from the file again on every batch.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        f" PRAGMA cache_size=-{int(os.environ.get('REVIEWSHIELD_SQLITE_CACHE_MB', '64')) * 1024};",
    }
    DATABASES["default"].setdefault("TEST", {})
    if os.environ.get("REVIEWSHIELD_SQLITE_TEST_FILE"):
        DATABASES["default"]["TEST"]["NAME"] = os.environ["REVIEWSHIELD_SQLITE_TEST_FILE"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# django-axes first: it refuses a locked-out username and address before a password is checked.
AUTHENTICATION_BACKENDS = [
    "reviewshield.limits.backends.LockoutBackend",  # django-axes, see there
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage and the ORM; people see BUSINESS_TIME_ZONE
BUSINESS_TIME_ZONE = "Asia/Shanghai"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(mode=0o700, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
# Evidence files are stored once per SHA-256 under blobs/ab/cd/<hash>, in local files by default or
# in any S3-compatible store (REVIEWSHIELD_EVIDENCE_S3_BUCKET and friends).
REVIEWSHIELD_EVIDENCE_DIR = Path(os.environ.get("REVIEWSHIELD_EVIDENCE_DIR", DATA_DIR / "evidence"))
_s3_bucket = os.environ.get("REVIEWSHIELD_EVIDENCE_S3_BUCKET", "")
if _s3_bucket:
    from botocore.config import Config as BotoConfig

    _evidence_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _s3_bucket,
            "endpoint_url": os.environ.get("REVIEWSHIELD_EVIDENCE_S3_ENDPOINT") or None,
            "region_name": os.environ.get("REVIEWSHIELD_EVIDENCE_S3_REGION") or None,
            "access_key": os.environ.get("REVIEWSHIELD_EVIDENCE_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("REVIEWSHIELD_EVIDENCE_S3_SECRET_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,  # keys are content hashes: the same key is the same bytes
            # An object being read is buffered in memory up to this size, then in a temporary file
            # (the default, 0, keeps a whole 500 MB video in memory).
            "max_memory_size": 8 << 20,
            # boto3 >= 1.36 adds CRC checksums to every request and checks them on every response;
            # many S3-compatible stores refuse or lack them. Only where the S3 API demands one.
            "client_config": BotoConfig(
                request_checksum_calculation="when_required", response_checksum_validation="when_required"
            ),
        },
    }
else:
    _evidence_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(REVIEWSHIELD_EVIDENCE_DIR), "allow_overwrite": True},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "evidence": _evidence_storage,
}
# Uploads go straight to a file beside the evidence store (never whole into memory), hashed and
# size-capped while they arrive; a file then moves into the store by rename, not by copy.
FILE_UPLOAD_HANDLERS = ["reviewshield.evidence.uploads.HashingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, exist_ok=True)
# Evidence files and the folders FileSystemStorage makes for them: the owner's only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Video is the one limit a deployment may want to change; every other limit is in evidence/kinds.py.
REVIEWSHIELD_VIDEO_MAX_MB = int(os.environ.get("REVIEWSHIELD_VIDEO_MAX_MB", "500"))
# Images above this many pixels are refused as possible decompression bombs.
REVIEWSHIELD_IMAGE_MAX_PIXELS = int(os.environ.get("REVIEWSHIELD_IMAGE_MAX_PIXELS", str(60_000_000)))
# Optional virus scan: "tcp://host:port" or "unix:///path/to/clamd.sock". When set, a file the
# scanner cannot vouch for (infected, or the scanner unreachable) is refused.
REVIEWSHIELD_CLAMD = os.environ.get("REVIEWSHIELD_CLAMD", "")
WHITENOISE_USE_FINDERS = True

# Folder of extra ruleset files (TOML) that policy owners add beside the shipped ones.
REVIEWSHIELD_QUEUE_REFRESH_SECONDS = int(os.environ.get("REVIEWSHIELD_QUEUE_REFRESH_SECONDS", "30"))

REVIEWSHIELD_LOG_ORIGIN = os.environ.get("REVIEWSHIELD_LOG_ORIGIN", "reviewshield.local/evidence")
REVIEWSHIELD_LOG_KEY_FILE = Path(os.environ.get("REVIEWSHIELD_LOG_KEY_FILE", DATA_DIR / "log-ed25519.key"))
REVIEWSHIELD_CHECKPOINT_SECONDS = int(os.environ.get("REVIEWSHIELD_CHECKPOINT_SECONDS", "60"))
REVIEWSHIELD_TSA_URL = os.environ.get("REVIEWSHIELD_TSA_URL", "").strip()
REVIEWSHIELD_TSA_CA_FILE = os.environ.get("REVIEWSHIELD_TSA_CA_FILE", "").strip()
REVIEWSHIELD_TSA_TIMEOUT_SECONDS = float(os.environ.get("REVIEWSHIELD_TSA_TIMEOUT_SECONDS", "10"))
REVIEWSHIELD_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("REVIEWSHIELD_WEBHOOK_TIMEOUT_SECONDS", "10"))
REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS", "30"))
REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS", "12"))
# Chat screening: a folder of lexicon files to use instead of the shipped ones, and how often (seconds)
# each process looks whether they changed; a broken edit is refused and the last good lexicon kept.
REVIEWSHIELD_LEXICON_DIR = os.environ.get("REVIEWSHIELD_LEXICON_DIR", "").strip()
REVIEWSHIELD_LEXICON_CHECK_SECONDS = float(os.environ.get("REVIEWSHIELD_LEXICON_CHECK_SECONDS", "5"))

REVIEWSHIELD_RULESET_DIRS = [
    p for p in os.environ.get("REVIEWSHIELD_RULESET_DIRS", "").split(os.pathsep) if p
]

# Login lockout (django-axes): a username is locked *from one address* after this many wrong
# passwords, for the cool-off; another address, or another username from the same address, is not.
# Failures are kept in the database (axes' database handler), so every web process shares them.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("REVIEWSHIELD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("REVIEWSHIELD_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off counts from the last wrong password before the lock: trying on while locked does not
# extend it (the page says when logging in is possible again, and that stays true).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "reviewshield.limits.login.lockout"

# Per-actor limits against floods and guessing: (attempts, window in seconds), counted in the
# database (limits/models.py says why not in the cache). Per person; bearer_failure per address.
LIMIT_DEFAULTS: dict[str, tuple[int, int]] = {
    "complaint_file": (10, 3600),
    "evidence_upload": (60, 3600),
    "appeal_file": (5, 3600),
    "extortion_report": (10, 3600),
    "chat_evidence": (30, 3600),
    "bearer_failure": (20, 600),
}


def _limits(raw: str) -> dict[str, tuple[int, int]]:
    limits = dict(LIMIT_DEFAULTS)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _eq, value = item.partition("=")
        count, _slash, seconds = value.partition("/")
        if name.strip() not in limits or not count.strip().isdigit() or not seconds.strip().isdigit():
            raise ValueError(f"REVIEWSHIELD_LIMITS: {item!r} is not name=count/seconds with a known name")
        limits[name.strip()] = (int(count), max(1, int(seconds)))
    return limits


REVIEWSHIELD_LIMITS = _limits(os.environ.get("REVIEWSHIELD_LIMITS", ""))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("REVIEWSHIELD_LOG_LEVEL", "INFO")},
    # httpx logs every request with its URL at INFO; webhook URLs may carry a receiver's token.
    # django-axes logs every login at INFO; its lockouts are WARNING.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
