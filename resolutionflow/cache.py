"""Django's Redis cache, with one redis-py client per connection pool instead of one per call.

Django builds a new `redis.Redis` for every cache operation; each build copies redis-py's table
of ~170 response callbacks, about a third of a millisecond of CPU. A batch status poll makes
two or three cache calls (login, tenancy, cards), so that was a tenth of its cost. The client
is thread-safe and its pool checks the process id, so sharing it across threads and forked
gunicorn workers is safe."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        clients: dict[int, Any] = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
