"""Django settings, all from the environment (see docs/configuration.md).

With nothing set this is the embedded default: SQLite under var/, in-process cache, Celery tasks run
in-process. Production and the test suite set DATABASE_URL (PostgreSQL), REDIS_URL and CELERY_BROKER_URL.
"""

import sys
from pathlib import Path

from .env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key is for local runs only; `manage.py check --deploy` refuses it (workflow/checks.py).
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "onething-insecure-development-key-do-not-use-in-production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "workflow",
    "api.apps.ApiConfig",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "web.idle_sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.csp.ContentSecurityPolicyMiddleware",
]
# Content-Security-Policy (web/csp.py, docs/security.md): empty = the built-in policy; "off" = no header.
ONETHING_CSP = env_str("ONETHING_CSP", "")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ]
        },
    }
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///var/onething.sqlite3"), base_dir=BASE_DIR)}
# Two PostgreSQL roles (docs/security.md): the application connects as DATABASE_URL's role, which may read and write
# rows but owns nothing — it cannot disable triggers, truncate or alter tables. The owner role, MIGRATE_DATABASE_URL,
# is used only by the commands that change the schema or the grants (`manage.py migrate`, `grant_app_role`).
# Unset, everything uses DATABASE_URL (the demo, the tests).
MIGRATE_DATABASE_URL = env_str("MIGRATE_DATABASE_URL", "")
OWNER_COMMANDS = {"migrate", "grant_app_role"}
if MIGRATE_DATABASE_URL and len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
    DATABASES = {"default": database_from_url(MIGRATE_DATABASE_URL, base_dir=BASE_DIR)}
# A read replica for the status lookups and the statistics (docs/scaling.md, workflow/replica.py); unset: none.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **database_from_url(DATABASE_REPLICA_URL, base_dir=BASE_DIR),
        "TEST": {"MIRROR": "default"},  # a test run reads its own test database through the alias
    }
    DATABASE_ROUTERS = ["workflow.replica.ReplicaRouter"]
    MIDDLEWARE.append("workflow.replica.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # JSON, never pickle: unpickling what someone wrote into Redis would run their code (config/cache_serializer.py).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"serializer": "config.cache_serializer.JSONSerializer"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# The hall's screens (web/): staff log in there; the API keeps its own token and session login.
LOGIN_URL = "web:login"
# Staff sessions end after a working day without a request (docs/security.md): requests renew the expiry, the
# session's row written at most once a minute (web/idle_sessions.py).
SESSION_COOKIE_AGE = env_int("ONETHING_SESSION_IDLE_SECONDS", 8 * 3600)
# API tokens (Authorization: Token …) expire this many hours after login, and die with a password change.
ONETHING_API_TOKEN_HOURS = env_int("ONETHING_API_TOKEN_HOURS", 10)
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
# Uploaded files above this size go to a temporary file while the request is parsed, not to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

REST_FRAMEWORK = {
    # Never Basic auth: Django's password hash costs about a second per request on these machines.
    # Token first: DRF answers an anonymous request with the first class's challenge, so 401 (not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "api.exception_handler.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "status_lookup_ip": env_str("THROTTLE_STATUS_LOOKUP_IP", "30/min"),
        "status_lookup_case": env_str("THROTTLE_STATUS_LOOKUP_CASE", "10/hour"),
        "status_lookup_addr_case": env_str("THROTTLE_STATUS_LOOKUP_ADDR_CASE", "5/hour"),
        "login": env_str("THROTTLE_LOGIN", "20/min"),
        "document_verify": env_str("THROTTLE_DOCUMENT_VERIFY", "20/min"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OneThing 一件事 API",
    "DESCRIPTION": "一件事一次办：一表申请、一窗受理、并联审批、统一反馈。",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets are served by the app itself: halls often run on networks without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "workflow.lifecycle.CaseStatus",
        "DecisionEnum": "workflow.models.Decision",
        "RectificationStateEnum": "workflow.models.RectificationState",
        "StateEnum": "workflow.models.HumanTaskState",  # the name it had before other "state" enums
        "ActionEnum": "workflow.selectors.permissions.ACTION_CHOICES",
        "ApplicantActionEnum": "workflow.selectors.permissions.APPLICANT_ACTION_CHOICES",
        "DeliveryMethodEnum": "workflow.models.DeliveryMethod",
        "SignatureMethodEnum": "workflow.labels.SIGNATURE_METHOD_CHOICES",
    },
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://")
# Embedded default: no broker process, so tasks run in-process. Tests and production use a real broker.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
# One queue name for the whole installation; the real-worker tests give each run its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# The legal clock (docs/clock.md). Beat only wakes the sweeps; deadlines live in database rows, so a second
# beat or a missed tick costs nothing. Run one beat process (scripts/dev.sh prod, Procfile).
ONETHING_WARNING_SHARE = float(env_str("ONETHING_WARNING_SHARE", "0.2"))  # warn when ≤ 20 % of a limit remains
ONETHING_TIMER_SWEEP_SECONDS = env_int("ONETHING_TIMER_SWEEP_SECONDS", 60)
ONETHING_CLOCK_SWEEP_SECONDS = env_int("ONETHING_CLOCK_SWEEP_SECONDS", 300)
# A claimed timer not fired after this long (its message was lost) is claimed again; > CELERY_TASK_TIME_LIMIT.
ONETHING_TIMER_RECLAIM_SECONDS = env_int("ONETHING_TIMER_RECLAIM_SECONDS", 600)
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))
CELERY_BEAT_SCHEDULE = {
    "clock-due-timers": {
        "task": "workflow.tasks.clock.sweep_due_timers",
        "schedule": float(ONETHING_TIMER_SWEEP_SECONDS),
        "options": {"expires": ONETHING_TIMER_SWEEP_SECONDS},  # a tick nobody ran in time is dropped
    },
    "clock-supervision": {
        "task": "workflow.tasks.clock.sweep_clock",
        "schedule": float(ONETHING_CLOCK_SWEEP_SECONDS),
        "options": {"expires": ONETHING_CLOCK_SWEEP_SECONDS},
    },
    "sms-outbox": {
        "task": "workflow.tasks.sms.sweep_sms_outbox",
        "schedule": float(env_int("ONETHING_SMS_SWEEP_SECONDS", 60)),
        "options": {"expires": env_int("ONETHING_SMS_SWEEP_SECONDS", 60)},
    },
    "promises-lapse": {
        "task": "workflow.tasks.promises.promises_lapse_sweep",
        "schedule": float(ONETHING_CLOCK_SWEEP_SECONDS),
        "options": {"expires": ONETHING_CLOCK_SWEEP_SECONDS},
    },
}

# The hall this installation serves: its administrative-division code prefixes every case number.
ONETHING_HALL_CODE = env_str("ONETHING_HALL_CODE", "110105")
ONETHING_HALL_NAME = env_str("ONETHING_HALL_NAME", "示范区政务服务中心")
# The default hall's region (收受分离: shown to the applicant as 收件地 / 审批地); the code defaults to the hall code.
ONETHING_HALL_REGION_CODE = env_str("ONETHING_HALL_REGION_CODE", ONETHING_HALL_CODE)
ONETHING_HALL_REGION_NAME = env_str("ONETHING_HALL_REGION_NAME", "示范区")
# Documents (docs/documents.md): issued after commit by a Celery task, stored outside every served URL.
ONETHING_ISSUE_DOCUMENTS = env_bool("ONETHING_ISSUE_DOCUMENTS", True)
# The write path's statements (its locks and reads, each step's write batch) as server-side prepared statements
# (workflow/prepared.py): on when the database's connections keep them (DB_PREPARED_STATEMENTS, config/env.py).
ONETHING_PREPARED_STATEMENTS = DATABASES["default"].get("OPTIONS", {}).get("prepare_threshold") is not None
ONETHING_PRIVATE_MEDIA_ROOT = env_str("ONETHING_PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private"))
ONETHING_PUBLIC_BASE_URL = env_str("ONETHING_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
ONETHING_HALL_PHONE = env_str("ONETHING_HALL_PHONE", "12345")
# Verifying a posted PDF (docs/security.md): refused unparsed above these sizes and counts, then checked in a child
# process with hard CPU/memory/time limits; at most ONETHING_VERIFY_CONCURRENCY at once across every web process
# (slots in the shared cache) — keep it below the number of web workers so pages always have one.
ONETHING_VERIFY_MAX_BYTES = env_int("ONETHING_VERIFY_MAX_BYTES", 10 * 1024 * 1024)
ONETHING_VERIFY_MAX_OBJECTS = env_int("ONETHING_VERIFY_MAX_OBJECTS", 5000)
ONETHING_VERIFY_MAX_REFERENCES = env_int("ONETHING_VERIFY_MAX_REFERENCES", 20000)
ONETHING_VERIFY_CPU_SECONDS = env_int("ONETHING_VERIFY_CPU_SECONDS", 5)
ONETHING_VERIFY_MEMORY_MB = env_int("ONETHING_VERIFY_MEMORY_MB", 768)
ONETHING_VERIFY_WALL_SECONDS = float(env_str("ONETHING_VERIFY_WALL_SECONDS", "15"))
ONETHING_VERIFY_CONCURRENCY = env_int("ONETHING_VERIFY_CONCURRENCY", 1)
# The audit trail (docs/security.md): the chain's HMAC key (never in the database; unset = derived from SECRET_KEY,
# which `check --deploy` refuses), and the folder of signed chain-head checkpoints, outside the database.
ONETHING_AUDIT_KEY = env_str("ONETHING_AUDIT_KEY", "")
ONETHING_AUDIT_CHECKPOINT_DIR = env_str("ONETHING_AUDIT_CHECKPOINT_DIR", str(BASE_DIR / "var" / "audit-checkpoints"))
ONETHING_AUDIT_CHECKPOINT_SECONDS = env_int("ONETHING_AUDIT_CHECKPOINT_SECONDS", 300)
ONETHING_AUDIT_CHECKPOINT_KEEP = env_int("ONETHING_AUDIT_CHECKPOINT_KEEP", 1000)
# Documents whose Celery message was lost are queued again by beat (workflow/services/documents.py).
ONETHING_DOCUMENT_SWEEP_SECONDS = env_int("ONETHING_DOCUMENT_SWEEP_SECONDS", 300)
ONETHING_DOCUMENT_SWEEP_GRACE_SECONDS = env_int("ONETHING_DOCUMENT_SWEEP_GRACE_SECONDS", 600)
ONETHING_DOCUMENT_SWEEP_LOOKBACK_HOURS = env_int("ONETHING_DOCUMENT_SWEEP_LOOKBACK_HOURS", 48)
CELERY_BEAT_SCHEDULE["documents-missing"] = {
    "task": "workflow.tasks.documents.sweep_missing_documents",
    "schedule": float(ONETHING_DOCUMENT_SWEEP_SECONDS),
    "options": {"expires": ONETHING_DOCUMENT_SWEEP_SECONDS},
}
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "workflow.tasks.audit.write_audit_checkpoint",
    "schedule": float(ONETHING_AUDIT_CHECKPOINT_SECONDS),
    "options": {"expires": ONETHING_AUDIT_CHECKPOINT_SECONDS},
}
# Material files (docs/configuration.md): one file's limit, and how many / how much one case may hold.
ONETHING_UPLOAD_MAX_BYTES = env_int("ONETHING_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
ONETHING_UPLOAD_MAX_FILES_PER_CASE = env_int("ONETHING_UPLOAD_MAX_FILES_PER_CASE", 100)
ONETHING_UPLOAD_MAX_BYTES_PER_CASE = env_int("ONETHING_UPLOAD_MAX_BYTES_PER_CASE", 200 * 1024 * 1024)
# 邮寄送达: the shared secret carriers sign their status webhook with (HMAC-SHA256 of the body); empty refuses every
# call (docs/api.md "Delivery").
ONETHING_DELIVERY_WEBHOOK_SECRET = env_str("ONETHING_DELIVERY_WEBHOOK_SECRET", "")
# SMS (docs/configuration.md "SMS"): the provider, and the outbox's sending after commit.
ONETHING_SMS_BACKEND = env_str("ONETHING_SMS_BACKEND", "console")  # console | tencent
ONETHING_SMS_DISPATCH = env_bool("ONETHING_SMS_DISPATCH", True)  # queue each outbox row's sending after commit
# A row a sender claimed and never finished after this long is marked 待核实 (never resent by itself).
ONETHING_SMS_CLAIM_SECONDS = env_int("ONETHING_SMS_CLAIM_SECONDS", 600)
ONETHING_SMS_TENCENT = {
    "secret_id": env_str("ONETHING_SMS_TENCENT_SECRET_ID", ""),
    "secret_key": env_str("ONETHING_SMS_TENCENT_SECRET_KEY", ""),
    "sdk_app_id": env_str("ONETHING_SMS_TENCENT_SDK_APP_ID", ""),
    "sign_name": env_str("ONETHING_SMS_TENCENT_SIGN_NAME", ""),
    "region": env_str("ONETHING_SMS_TENCENT_REGION", "ap-guangzhou"),
    "endpoint": env_str("ONETHING_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com"),
    # accepted:123456,correction:123457,pickup:123458,mailed:…,download:…,concluded:123459,login_code:123460
    "templates": dict(
        pair.split(":", 1) for pair in env_str("ONETHING_SMS_TENCENT_TEMPLATES", "").split(",") if ":" in pair
    ),
}
# The applicant's door (docs/api.md "Applicant"): one-time codes, sessions, kiosks.
ONETHING_APPLICANT_CODE_SECONDS = env_int("ONETHING_APPLICANT_CODE_SECONDS", 300)
ONETHING_APPLICANT_SESSION_SECONDS = env_int("ONETHING_APPLICANT_SESSION_SECONDS", 1800)
ONETHING_KIOSK_IDLE_SECONDS = env_int("ONETHING_KIOSK_IDLE_SECONDS", 120)
# Kiosk devices allowed to sign applicants in with their ID-card reader: "id:key,id:key".
ONETHING_KIOSKS = dict(pair.split(":", 1) for pair in env_str("ONETHING_KIOSKS", "").split(",") if ":" in pair)

# 好差评: working days a department has to rectify after a bad rating.
ONETHING_RECTIFICATION_DAYS = env_int("ONETHING_RECTIFICATION_DAYS", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # SpiffWorkflow logs every task state change at INFO: far too much for a hall's logs.
    "loggers": {
        "spiff": {"level": "WARNING"},
        "SpiffWorkflow": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "pyhanko": {"level": "ERROR"},
        "pyhanko_certvalidator": {"level": "ERROR"},
    },
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
if env_bool("DJANGO_SECURE", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    # Deliberately no SECURE_HSTS_PRELOAD: preloading commits the whole registrable domain (a shared gov.cn
    # zone) to HTTPS in every browser for months; that is the domain owner's decision, not this app's.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
