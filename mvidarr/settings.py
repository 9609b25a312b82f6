"""MVidarr settings: one module, configured only through the environment
(the channel layer, broker and logging take their shape in ``backends``).

With no environment at all, MVidarr runs in *embedded* mode: SQLite in the data
dir, Dramatiq's StubBroker with worker threads in the web process, and an
in-memory channel layer. Setting ``REDIS_URL`` switches to *scaled* mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mvidarr import backends
from videos.layout import DEFAULT_TEMPLATE, check_template
from videos.netguard import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def envbool(name: str, default: bool) -> bool:
    raw = envstr(name).lower()
    if raw == "":
        return default
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0, not {raw!r}")


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def envlist(name: str) -> list[str]:
    """``a,b,c``: the non-empty items, stripped."""
    return [item.strip() for item in envstr(name).split(",") if item.strip()]


def envurl(name: str) -> str:
    """An http(s) URL without a trailing slash, or ""."""
    url = envstr(name).rstrip("/")
    if url and not url.lower().startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL, not {url!r}")
    return url


def envint(name: str, default: int, minimum: int = 0) -> int:
    raw = envstr(name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envlinks(name: str, default: dict[str, str]) -> dict[str, str]:
    """``name=https://…{id}…,…``: a link template per name, over the default ones."""
    links = dict(default)
    for item in envlist(name):
        key, _, template = (part.strip() for part in item.partition("="))
        if not key or "{id}" not in template or not template.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{name} must be name=http(s)://…{{id}}… pairs separated by commas, not {item!r}"
            )
        links[key] = template
    return links


# The data dir holds the database (session keys, password hashes), the secret
# key and the library: nothing in it is for other local users. Every file and
# directory this process and its children (yt-dlp, ffmpeg) create is private.
os.umask(0o077)
DATA_DIR = Path(envstr("MVIDARR_DATA_DIR", str(BASE_DIR / "data"))).resolve()
LIBRARY_DIR = Path(envstr("MVIDARR_LIBRARY_DIR", str(DATA_DIR / "library"))).resolve()
try:  # where files go inside the library (videos.layout; also on the Settings page)
    LIBRARY_TEMPLATE = check_template(envstr("MVIDARR_LIBRARY_TEMPLATE", DEFAULT_TEMPLATE))
except ValueError as e:
    raise ImproperlyConfigured(f"MVIDARR_LIBRARY_TEMPLATE: {e}") from None
# Downloads land here first and move into the library only when complete, so a
# cancelled or failed job never leaves a partial file in the library.
WORK_DIR = DATA_DIR / "work"
# Thumbnails made for the pages (THUMBS_DIR/<video id>/<width>.jpg).
THUMBS_DIR = DATA_DIR / "thumbs"
for _dir in (DATA_DIR, LIBRARY_DIR, WORK_DIR, THUMBS_DIR):
    _dir.mkdir(parents=True, exist_ok=True)


def envmode(name: str, default: int) -> int:
    """A file mode in octal ("0640"): read and write for the owner, at most
    read and write for others, never execute."""
    raw = envstr(name)
    if raw == "":
        return default
    try:
        mode = int(raw, 8)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an octal file mode like 0640, not {raw!r}"
        ) from None
    if mode & ~0o666 or mode & 0o600 != 0o600:
        raise ImproperlyConfigured(
            f"{name} must give the owner read and write and nobody execute "
            f"(0600 to 0666), not {raw}"
        )
    return mode


# The library's files and folders: private by default, like the data dir.
# A media server running as another user (Jellyfin, Plex) needs e.g. 0640
# (with a shared group) or 0644, and the library outside the data dir.
LIBRARY_FILE_MODE = envmode("MVIDARR_LIBRARY_FILE_MODE", 0o600)
LIBRARY_DIR_MODE = LIBRARY_FILE_MODE | (LIBRARY_FILE_MODE & 0o444) >> 2
if LIBRARY_FILE_MODE != 0o600:
    with contextlib.suppress(PermissionError):
        LIBRARY_DIR.chmod(LIBRARY_DIR_MODE)


def _make_private(data_dir: Path) -> None:
    """Tighten a data dir made before the umask above (0755, files 0644)."""
    with contextlib.suppress(PermissionError):
        data_dir.chmod(0o700)
    for name in ("mvidarr.sqlite3", "mvidarr.sqlite3-wal", "mvidarr.sqlite3-shm", "secret_key"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            (data_dir / name).chmod(0o600)


_make_private(DATA_DIR)


def _secret_key() -> str:
    if key := envstr("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in envstr("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")]
CSRF_TRUSTED_ORIGINS = [o for o in envstr("CSRF_TRUSTED_ORIGINS").split(",") if o]

# Behind a reverse proxy that ends TLS: trust its X-Forwarded-Proto, send
# cookies only over HTTPS and tell browsers to stay on HTTPS (HSTS).
BEHIND_TLS_PROXY = envbool("MVIDARR_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600

REDIS_URL = envstr("REDIS_URL")
EMBEDDED = not REDIS_URL
ALLOW_PRIVATE_URLS = envbool("MVIDARR_ALLOW_PRIVATE_URLS", False)


def envnetworks(name: str) -> list:
    """``CIDR[,CIDR…]``; a bad item (or host bits set, ``10.0.0.5/24``) stops startup."""
    try:
        return list(parse_networks(envstr(name)))
    except ValueError as e:
        raise ImproperlyConfigured(f"{name} must be a comma-separated list of CIDRs: {e}") from None


# Private networks content may still reach (a LAN media host), and nothing else private.
ALLOWED_NETWORKS = envnetworks("MVIDARR_ALLOWED_NETWORKS")

# Worker threads per queue. Each download runs in its own child process, so a
# thread here is cheap: it only supervises.
QUEUE_CONCURRENCY = {
    "video_downloads": envint("MVIDARR_DOWNLOAD_CONCURRENCY", 3, minimum=1),
    "metadata": envint("MVIDARR_METADATA_CONCURRENCY", 2, minimum=1),
    "image_processing": envint("MVIDARR_IMAGE_CONCURRENCY", 1, minimum=1),
    "default": envint("MVIDARR_DEFAULT_CONCURRENCY", 2, minimum=1),
}
# How much lower than the web server and the supervisors a job's child (yt-dlp,
# ffmpeg, Pillow) runs, in nice steps (0-19): with every core busy transcoding,
# pages, submits and progress still get a core first.
JOB_NICE = envint("MVIDARR_JOB_NICE", 10, minimum=0)
if JOB_NICE > 19:
    raise ImproperlyConfigured(f"MVIDARR_JOB_NICE must be at most 19, not {JOB_NICE}")
# A running job whose heartbeat is older than this belongs to a dead worker.
JOB_STALE_AFTER = envint("MVIDARR_JOB_STALE_AFTER", 90, minimum=5)
# A download does not start while the library or scratch disk has less free
# space than this (MB); yt-dlp refuses files larger than MAX_FILESIZE_MB (0: any).
MIN_FREE_MB = envint("MVIDARR_MIN_FREE_MB", 1024, minimum=0)
MAX_FILESIZE_MB = envint("MVIDARR_MAX_FILESIZE_MB", 0, minimum=0)
# x264's speed/size trade-off when processing transcodes (ultrafast … veryslow).
FFMPEG_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                  "slower", "veryslow")  # fmt: skip
FFMPEG_PRESET = envchoice("MVIDARR_FFMPEG_PRESET", "veryfast", FFMPEG_PRESETS)
# Job sockets: at most this many per user; each rechecks its login or API key
# this often (seconds) and closes once it no longer holds.
WS_MAX_PER_USER = envint("MVIDARR_WS_MAX_PER_USER", 20, minimum=1)
WS_RECHECK_EVERY = envint("MVIDARR_WS_RECHECK", 30, minimum=1)
# A worker process records a beat this often; one silent for WORKER_DEAD_AFTER
# seconds is dead, and its running jobs are queued again.
WORKER_DEAD_AFTER = envint("MVIDARR_WORKER_DEAD_AFTER", 10, minimum=3)
WORKER_BEAT_EVERY = max(1.0, WORKER_DEAD_AFTER / 4)
# A queued job no worker has claimed for this long is sent to the broker again.
JOB_RESEND_AFTER = envint("MVIDARR_JOB_RESEND_AFTER", 60, minimum=5)
# Transient failures (network, HTTP 5xx/429, stalls) are retried with
# exponential backoff from this base delay (seconds) up to this many attempts.
JOB_MAX_ATTEMPTS = envint("MVIDARR_MAX_ATTEMPTS", 3, minimum=1)
JOB_RETRY_DELAY = envint("MVIDARR_RETRY_DELAY", 10, minimum=0)
# A download whose byte count has not moved for this long is stopped and retried.
JOB_STALL_TIMEOUT = envint("MVIDARR_STALL_TIMEOUT", 120, minimum=2)
# Finished jobs (and their logs) are deleted after this many days.
JOB_HISTORY_DAYS = envint("MVIDARR_HISTORY_DAYS", 30, minimum=1)
# GET /metrics answers staff sessions and, when this is set, this bearer token.
METRICS_TOKEN = envstr("MVIDARR_METRICS_TOKEN")

# Integrations. Staff may set each of these (and MIN_FREE_MB, the retries and
# the library template above) on the Settings page; a variable that is set
# here wins (see mvidarr/config.py).
NOTIFY_URLS = envlist("MVIDARR_NOTIFY_URLS")  # Apprise URLs
JELLYFIN_URL = envurl("MVIDARR_JELLYFIN_URL")
JELLYFIN_TOKEN = envstr("MVIDARR_JELLYFIN_TOKEN")
PLEX_URL = envurl("MVIDARR_PLEX_URL")
PLEX_TOKEN = envstr("MVIDARR_PLEX_TOKEN")
IMVDB_API_KEY = envstr("MVIDARR_IMVDB_API_KEY")
IMVDB_URL = envurl("MVIDARR_IMVDB_URL") or "https://imvdb.com/api/v1"
# Where IMVDb's video ids lead: ``source=template`` pairs, ``{id}`` the id
# IMVDb gives (e.g. a YouTube mirror: ``youtube=https://yewtu.be/watch?v={id}``).
IMVDB_SOURCE_LINKS = envlinks(
    "MVIDARR_IMVDB_SOURCE_LINKS",
    {"youtube": "https://www.youtube.com/watch?v={id}", "vimeo": "https://vimeo.com/{id}"},
)
# New files reach the media servers in one refresh at most this often (seconds).
MEDIA_REFRESH_EVERY = envint("MVIDARR_MEDIA_REFRESH_EVERY", 60, minimum=1)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_dramatiq",
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",
    "mvidarr",
    "jobs",
    "videos",
    "integrations",
    "sources",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mvidarr.middleware.content_security_policy",
    "mvidarr.middleware.api_method_not_allowed",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mvidarr.middleware.first_run_setup",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (pages and admin alike go through authenticate()): after 10
# failures for one username *or* one client address within 15 minutes, every
# attempt is refused for 15 minutes, even with the right password. Each failure
# is logged by django-axes (logger "axes.watch_login" and friends).
# Django's ModelBackend, with a user's permissions read in one query; setup logs
# the first account in with it.
MODEL_BACKEND = "mvidarr.roles.PermissionBackend"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", MODEL_BACKEND]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "mvidarr.security.client_ip"
AXES_VERBOSE = True
AXES_SENSITIVE_PARAMETERS: list[str] = []  # log who and from where (never the password)

ROOT_URLCONF = "mvidarr.urls"
ASGI_APPLICATION = "mvidarr.asgi.application"
# Threads of a web server process: views (mvidarr.asgi) and the live pages'
# fragments (jobs.sockets). Each may hold a database connection.
REQUEST_THREADS = 12
FRAGMENT_THREADS = 4
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "library"
LOGOUT_REDIRECT_URL = "login"

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

if database_url := envstr("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url)}
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # Under ASGI requests run on several threads, so Django's per-thread
        # persistent connections pile up; a pool shares a few. Every worker
        # thread may hold one during a job, every web server thread one.
        pool_size = sum(QUEUE_CONCURRENCY.values()) + REQUEST_THREADS + FRAGMENT_THREADS
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
        }
        # A connection idle in the pool while PostgreSQL restarted is dead:
        # this backend drops it before use, without a round trip.
        DATABASES["default"]["ENGINE"] = "mvidarr.postgres"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "mvidarr.sqlite3",
            "OPTIONS": {
                # WAL lets pages read while workers write; IMMEDIATE takes the
                # write lock up front so concurrent writers queue on the busy
                # timeout instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not shared-cache memory: tests with threads need WAL too.
            "TEST": {"NAME": DATA_DIR / "test.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TZ", "UTC") or "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

# Request bodies are small JSON documents; anything larger is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

CHANNEL_LAYERS = backends.channel_layers(REDIS_URL)
DRAMATIQ_BROKER = backends.dramatiq_broker(REDIS_URL)
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# Idle consumers poll the broker this often (ms); in Redis mode a new message
# also wakes them at once (jobs.redisbroker).
DRAMATIQ_WORKER_TIMEOUT = 100

# plain: one readable line per record; json: one JSON object per line.
LOG_FORMAT = envchoice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = backends.logging_config(LOG_FORMAT, envstr("LOG_LEVEL", "INFO").upper())
