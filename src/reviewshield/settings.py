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
"""

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("REVIEWSHIELD_DATA_DIR", Path.cwd() / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
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
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
STATIC_ROOT.mkdir(exist_ok=True)
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
Path(FILE_UPLOAD_TEMP_DIR).mkdir(exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o640
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("REVIEWSHIELD_LOG_LEVEL", "INFO")},
    # httpx logs every request with its URL at INFO; webhook URLs may carry a receiver's token.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
