"""Reading configuration from the environment, once, with types."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None else int(value)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str, *, base_dir) -> dict:
    """``sqlite:///path`` (relative to the project), ``sqlite:////abs/path``, or
    ``postgresql://user:pass@host:port/name``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path.removeprefix("/")) or "var/onething.sqlite3"
        name = path if os.path.isabs(path) else str(base_dir / path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # SQLite ignores SELECT ... FOR UPDATE: IMMEDIATE transactions serialise writers instead,
            # and WAL lets readers go on while one writes.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": name.removesuffix(".sqlite3") + "-test.sqlite3"},
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "onething",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            # libpq parameters from the query string, e.g. ?sslmode=require&application_name=onething-web. JIT
            # compilation is off unless the URL sets `options`: this workload's statements are short, and the
            # dashboard's one large scan spent 130–200 ms compiling for a 75 ms run (docs/performance.md).
            # psycopg keeps server-side prepared statements only with a threshold (Django's default is None, off).
            # Django's own statements are bound on the client and never prepared — a generic plan is wrong for the
            # worklists, whose best plan depends on the values (measured: the window's task list 900 ms p95
            # with every statement bound on the server) — while the write path's statements, one row by its key
            # each, are bound on the server and prepared at their first use (workflow/prepared.py): a step's 12 KB
            # process state travels as a parameter, and planning them cost about as much as running them.
            # DB_PREPARED_STATEMENTS=0 turns that off too (a pooler that cannot keep prepared statements).
            "OPTIONS": {
                "connect_timeout": 5,
                "options": "-c jit=off",
                "prepare_threshold": 5 if env_bool("DB_PREPARED_STATEMENTS", True) else None,
                **dict(parse_qsl(parsed.query)),
            },
        }
    raise ImproperlyConfigured(f"DATABASE_URL: unsupported scheme {parsed.scheme!r}")
