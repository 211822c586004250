"""A counting semaphore across every web process and host, in the shared cache (Redis in production).

    with cache_semaphore("verify", slots=2, ttl=30):   # raises errors.Busy when all slots are taken
        ...

Each slot is one cache key taken with ``cache.add`` (Redis ``SET NX EX``: atomic) and deleted on release; a
process that dies holding a slot loses it after ``ttl`` seconds, so ``ttl`` must exceed the guarded work's hard
time limit. Why the cache and not the database or a file lock: the cache is shared by every web process on
every host (a file lock is per host), and taking a slot costs one round trip with no transaction to hold
open. Embedded default (in-process cache): the slots count within the one process, which is all there is.
"""

from __future__ import annotations

import contextlib
import uuid

from django.core.cache import cache

from . import errors


@contextlib.contextmanager
def cache_semaphore(name: str, *, slots: int, ttl: int, retry_after: int = 5):
    token = uuid.uuid4().hex
    for slot in range(max(slots, 1)):
        key = f"onething:semaphore:{name}:{slot}"
        if cache.add(key, token, timeout=ttl):
            break
    else:
        raise errors.Busy(retry_after=retry_after)
    try:
        yield
    finally:
        if cache.get(key) == token:  # not released by someone else after our ttl ran out
            cache.delete(key)
