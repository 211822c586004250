"""JSON for the Redis cache instead of Django's default pickle (docs/security.md → "The cache holds no pickles").

Unpickling runs code: with pickles, whoever can write to Redis runs code in every web worker. JSON values are
data only. Plain integers go to Redis as they are, as Django's serializer does, so ``incr`` works (throttles,
lookup counters). Values that JSON cannot hold (a model instance, a date-keyed dict) raise TypeError on ``set``:
the code caching them turns them into plain data first (workflow/halls.py, workflow/clock/calendar_cache.py).
"""

from __future__ import annotations

import json


class JSONSerializer:
    def dumps(self, obj) -> bytes | int:
        if type(obj) is int:
            return obj
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes):
        try:
            return int(data)
        except ValueError:
            return json.loads(data)
