"""Celery tasks, one module per concept. Celery's autodiscovery imports this package.

Every task takes ids, is idempotent (acks late ⇒ at least once) and calls services.
"""

from . import (
    audit,  # noqa: F401
    calendar,  # noqa: F401
    clock,  # noqa: F401
    documents,  # noqa: F401
    promises,  # noqa: F401
    sms,  # noqa: F401
)
