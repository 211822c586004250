"""The project's settings plus viewflow and the peer flow (the viewflow section's process only)."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "viewflow", "viewflow.workflow", "bench.viewflow_peer"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
