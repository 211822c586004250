"""Test settings: the real services (PostgreSQL, Redis, RabbitMQ) from the environment, a fast hasher."""

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
# Committed steps would queue PDF issuance to the broker; the tests that issue documents turn this on.
ONETHING_ISSUE_DOCUMENTS = False
# Every test has its own rolled-back trail, so no checkpoint folder is shared between them; the checkpoint tests
# point this at a temporary folder (docs/security.md). The chain's key is derived from SECRET_KEY here.
ONETHING_AUDIT_CHECKPOINT_DIR = ""
# Outbox rows are written as in production; the tests that send them call the task's body or run a worker.
ONETHING_SMS_DISPATCH = False
