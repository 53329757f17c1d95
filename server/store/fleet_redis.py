"""The fleet store on Redis: every worker on every machine sees the same screens and plays.

Keys (under the channel's prefix): `screen:<id>` (the record, JSON) in the set `screens`;
`screen-actions:<id>` a list of queued actions; `walls` a hash of walls (JSON) by id;
`figures:<worker>` with an expiry; `plays` a hash of the default channel's plays by
"<start>|<video>" indexed by start in the sorted set `plays-by-start`, and
`play-screens:<start>|<video>` the set of screens that showed each (the keys they always had);
another channel's are the same under `channel-plays:<slug>:`, and `play-channels` lists those
channels. Not under the channel's own `c:<slug>:` keys, which go with the channel: its plays
stay until PLAY_LOG_DAYS have passed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from . import DEFAULT_CHANNEL
from .fleet import FIGURES_TTL, Merge, Record
from .redis import HEALTH_TIMEOUT, PREFIX, redact


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _play_key(video_id: str, start: float) -> str:
    return f"{start!r}|{video_id}"


def _of(channel: str) -> str:
    """The prefix of a channel's play-log keys."""
    return "" if channel == DEFAULT_CHANNEL else f"channel-plays:{channel}:"


class RedisFleet:
    name = "redis"

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url = url
        self._prefix = prefix
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)

    def _key(self, name: str) -> str:
        return self._prefix + name

    async def _change(
        self, screen_id: str, change: Callable[[Record | None], Record | None]
    ) -> Record | None:
        """Read, change and write one screen's record atomically (optimistic: WATCH)."""
        key = self._key(f"screen:{screen_id}")
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    record = change(json.loads(raw) if raw else None)
                    if record is None:
                        return None
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    pipe.set(key, json.dumps(record))
                    pipe.sadd(self._key("screens"), screen_id)
                    await pipe.execute()
                    return record
                except WatchError:
                    continue

    async def save_screen(
        self, screen_id: str, merge: Merge, *, since: float, max_screens: int
    ) -> tuple[Record, list[str]] | None:
        known = await self._redis.sismember(self._key("screens"), screen_id)
        if not known and await self._redis.scard(self._key("screens")) >= max_screens:
            return None
        record = await self._change(screen_id, merge)
        assert record is not None
        actions_key = self._key(f"screen-actions:{screen_id}")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(actions_key, 0, -1)
            pipe.delete(actions_key)
            queued, _ = await pipe.execute()
        actions = [json.loads(item) for item in queued]
        return record, [a["action"] for a in actions if a["at"] >= since]

    async def screens(self) -> list[Record]:
        ids = sorted(_text(member) for member in await self._redis.smembers(self._key("screens")))
        if not ids:
            return []
        rows = await self._redis.mget([self._key(f"screen:{i}") for i in ids])
        return [json.loads(row) for row in rows if row]

    async def update_screen(
        self, screen_id: str, change: Callable[[Record], Record]
    ) -> Record | None:
        return await self._change(screen_id, lambda r: None if r is None else change(r))

    async def forget_screen(self, screen_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(self._key("screens"), screen_id)
            pipe.delete(self._key(f"screen:{screen_id}"), self._key(f"screen-actions:{screen_id}"))
            removed, _ = await pipe.execute()
        return bool(removed)

    async def command(self, screen_id: str, action: str, now: float) -> bool:
        if not await self._redis.sismember(self._key("screens"), screen_id):
            return False
        key = self._key(f"screen-actions:{screen_id}")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps({"action": action, "at": now}))
            pipe.expire(key, 3600)
            await pipe.execute()
        return True

    async def walls(self) -> list[Record]:
        rows = await self._redis.hgetall(self._key("walls"))
        return [json.loads(data) for data in rows.values()]

    async def wall(self, wall_id: str) -> Record | None:
        data = await self._redis.hget(self._key("walls"), wall_id)
        return json.loads(data) if data else None

    async def save_wall(self, wall_id: str, wall: Record) -> None:
        await self._redis.hset(self._key("walls"), wall_id, json.dumps(wall))

    async def delete_wall(self, wall_id: str) -> bool:
        return bool(await self._redis.hdel(self._key("walls"), wall_id))

    async def put_figures(self, worker_id: str, figures: Record, now: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(
                self._key(f"figures:{worker_id}"), json.dumps(figures), px=int(FIGURES_TTL * 1000)
            )
            pipe.sadd(self._key("figure-workers"), worker_id)
            await pipe.execute()

    async def figures(self, now: float) -> dict[str, Record]:
        workers = sorted(_text(w) for w in await self._redis.smembers(self._key("figure-workers")))
        if not workers:
            return {}
        rows = await self._redis.mget([self._key(f"figures:{w}") for w in workers])
        gone = [w for w, row in zip(workers, rows, strict=True) if row is None]
        if gone:
            await self._redis.srem(self._key("figure-workers"), *gone)
        return {w: json.loads(row) for w, row in zip(workers, rows, strict=True) if row}

    async def record_play(
        self,
        channel: str,
        video_id: str,
        start: float,
        title: str,
        duration: float,
        keep_after: float,
    ) -> None:
        key, of = _play_key(video_id, start), _of(channel)
        play = json.dumps(
            {"video_id": video_id, "start": start, "title": title, "duration": duration}
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(self._key(of + "plays"), key, play)
            pipe.zadd(self._key(of + "plays-by-start"), {key: start})
            if of:
                pipe.sadd(self._key("play-channels"), channel)
            await pipe.execute()
        for logged in await self._play_channels():
            await self._drop_before(_of(logged), keep_after)

    async def _play_channels(self) -> list[str]:
        others = await self._redis.smembers(self._key("play-channels"))
        return [DEFAULT_CHANNEL, *sorted(_text(c) for c in others)]

    async def _drop_before(self, of: str, keep_after: float) -> None:
        old = [
            _text(k)
            for k in await self._redis.zrangebyscore(
                self._key(of + "plays-by-start"), "-inf", f"({keep_after!r}"
            )
        ]
        if old:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self._key(of + "plays"), *old)
                pipe.zrem(self._key(of + "plays-by-start"), *old)
                pipe.delete(*[self._key(f"{of}play-screens:{k}") for k in old])
                await pipe.execute()

    async def add_play_screens(
        self, channel: str, video_id: str, start: float, screens: Iterable[str]
    ) -> None:
        members = list(screens)
        if members:
            key = f"{_of(channel)}play-screens:{_play_key(video_id, start)}"
            await self._redis.sadd(self._key(key), *members)

    async def plays(self, start: float, end: float, channel: str | None = None) -> list[Record]:
        channels = await self._play_channels() if channel is None else [channel]
        plays: list[Record] = []
        for logged in channels:
            plays += await self._plays_of(logged, start, end)
        return sorted(plays, key=lambda play: (play["start"], play["channel"]))

    async def _plays_of(self, channel: str, start: float, end: float) -> list[Record]:
        of = _of(channel)
        keys = [
            _text(k)
            for k in await self._redis.zrangebyscore(
                self._key(of + "plays-by-start"), repr(start), f"({end!r}"
            )
        ]
        if not keys:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self._key(of + "plays"), keys)
            for key in keys:
                pipe.smembers(self._key(f"{of}play-screens:{key}"))
            rows, *shown = await pipe.execute()
        plays: list[Record] = []
        for row, screens in zip(rows, shown, strict=True):
            if row:
                play: dict[str, Any] = {"channel": channel, **json.loads(row)}
                play["screens"] = sorted(_text(s) for s in screens)
                plays.append(play)
        return plays

    async def health(self) -> dict[str, object]:
        report: dict[str, object] = {"store": self.name, "url": redact(self.url)}
        try:
            await asyncio.wait_for(self._redis.ping(), HEALTH_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as error:
            return {**report, "ok": False, "error": f"{type(error).__name__}: {error}"}
        return {**report, "ok": True}

    async def close(self) -> None:
        await self._redis.aclose()
