"""The Redis cache holds JSON, never pickles (issue 18): what someone else writes into Redis is data, not code."""

from __future__ import annotations

import pickle

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from workflow import halls
from workflow.models import Hall

pytestmark = pytest.mark.django_db


class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/onething-pickle-ran",))


@pytest.fixture
def raw_redis():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "the tests run on Redis"
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def test_a_pickle_written_into_redis_is_never_unpickled(raw_redis, tmp_path):
    import os

    marker = "/tmp/onething-pickle-ran"
    if os.path.exists(marker):
        os.remove(marker)
    key = cache.make_and_validate_key("onething:hall:code:999999")
    raw_redis.set(key, pickle.dumps(_Boom()))
    with pytest.raises(ValueError):  # not JSON: refused, never executed
        cache.get("onething:hall:code:999999")
    assert not os.path.exists(marker)


def test_what_the_app_caches_is_stored_as_json_and_still_works(raw_redis):
    hall = halls.default_hall()
    assert halls.hall_by_id(hall.pk) == hall  # cached now
    stored = raw_redis.get(cache.make_and_validate_key(f"onething:hall:id:{hall.pk}"))
    assert stored.startswith(b"[") and hall.code.encode() in stored
    again = halls.hall_by_code(hall.code)
    assert isinstance(again, Hall) and (again.pk, again.name, again.is_active) == (hall.pk, hall.name, True)
    # integers stay integers in Redis, so incr (the lookup counters) works
    cache.set("onething:test:n", 1, 30)
    assert cache.incr("onething:test:n") == 2
