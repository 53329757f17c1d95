"""Redis store: one channel shared by every worker on every machine.

Each mutation is one Lua script, so the version check and the write are a single atomic step on
the server, and it publishes the writer's id and what changed on a pub/sub channel in the same
step: a process then follows every change but its own, reloading only what moved. Redis being
away is survivable: the caller keeps its last state (the clock is pure), `health()` says what is
wrong, and `changes()` reconnects on its own and yields once it is back, so the caller reloads
everything it may have missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError

from shared import slots
from shared.slots import Schedule

from ..catalog import Counts, Video
from ..clock import Anchor, ChannelState
from . import EVERYTHING, Change, ChannelInfo, Snapshot, Vote

log = logging.getLogger(__name__)

PREFIX = "simulcast:"
# Change notices: "<writer id>|catalog" or "<writer id>|votes|<video id>".
SEPARATOR, CATALOG, VOTES = "|", "catalog", "votes"
PRESENCE_TTL_MS = 15_000  # a worker's viewer count expires unless refreshed (every ~2 s)
HEALTH_TIMEOUT = 2.0
MAX_CONNECTIONS = 32  # per process; Redis answers each command in microseconds
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)  # then 2 s between attempts

# KEYS: channel, videos, order, likes, dislikes.
# ARGV: expected version, anchor id, anchor start, upserts (JSON list of [id, json]),
#       remove id, change notice, notification channel, key prefix, resume id (JSON),
#       new order (JSON or ''), slot, back id (JSON), schedule (JSON or '').
COMMIT = """
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
local remove = ARGV[5]
for _, pair in ipairs(cjson.decode(ARGV[4])) do
  redis.call('HSET', KEYS[2], pair[1], pair[2])
  if not redis.call('ZSCORE', KEYS[3], pair[1]) then
    local last = redis.call('ZRANGE', KEYS[3], 0, 0, 'REV', 'WITHSCORES')
    redis.call('ZADD', KEYS[3], (tonumber(last[2]) or 0) + 1, pair[1])
  end
end
if remove ~= '' then
  redis.call('HDEL', KEYS[2], remove)
  redis.call('ZREM', KEYS[3], remove)
  redis.call('HDEL', KEYS[4], remove)
  redis.call('HDEL', KEYS[5], remove)
  local votes = ARGV[8] .. 'votes:' .. remove
  for _, viewer in ipairs(redis.call('HKEYS', votes)) do
    redis.call('HDEL', ARGV[8] .. 'voter:' .. viewer, remove)
  end
  redis.call('DEL', votes)
end
if ARGV[10] ~= '' then
  for position, id in ipairs(cjson.decode(ARGV[10])) do
    if redis.call('ZSCORE', KEYS[3], id) then redis.call('ZADD', KEYS[3], position, id) end
  end
end
if ARGV[13] ~= '' then redis.call('HSET', KEYS[1], 'schedule', ARGV[13]) end
redis.call('HSET', KEYS[1], 'anchor_id', ARGV[2], 'started_at', ARGV[3], 'version', version + 1,
           'resume_id', ARGV[9], 'slot', ARGV[11], 'back_id', ARGV[12])
redis.call('PUBLISH', ARGV[7], ARGV[6])
return 1
"""

# KEYS: channel. ARGV: banner text, change notice, notification channel.
BANNER = """
redis.call('HSET', KEYS[1], 'banner', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[3], ARGV[2])
"""

# The votes of a video by viewer, the votes of a viewer by video, and running totals: counts
# stay exact under any concurrency and reading them never scans the votes. Pressing the same
# button again withdraws the vote: decided here, in the same atomic step as the write.
# KEYS: votes of the video, votes of the viewer, likes, dislikes.
# ARGV: video id, viewer id, value pressed, notification, notification channel.
TOGGLE_VOTE = """
local video, viewer, new = ARGV[1], ARGV[2], tonumber(ARGV[3])
local old = tonumber(redis.call('HGET', KEYS[1], viewer) or '0')
if old == new then new = 0 end
if old ~= new then
  if new == 0 then
    redis.call('HDEL', KEYS[1], viewer)
    redis.call('HDEL', KEYS[2], video)
  else
    redis.call('HSET', KEYS[1], viewer, new)
    redis.call('HSET', KEYS[2], video, new)
  end
  if old == 1 then redis.call('HINCRBY', KEYS[3], video, -1) end
  if old == -1 then redis.call('HINCRBY', KEYS[4], video, -1) end
  if new == 1 then redis.call('HINCRBY', KEYS[3], video, 1) end
  if new == -1 then redis.call('HINCRBY', KEYS[4], video, 1) end
  redis.call('PUBLISH', ARGV[5], ARGV[4])
end
return {tonumber(redis.call('HGET', KEYS[3], video) or '0'),
        tonumber(redis.call('HGET', KEYS[4], video) or '0'), new}
"""

# Expiry runs on the Redis clock, so workers on machines with skewed clocks still agree on who
# is alive. KEYS: the set of workers. ARGV: key prefix, worker id, viewers, ttl in ms.
PRESENCE = """
redis.call('SET', ARGV[1] .. 'presence:' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[1], ARGV[2])
local total = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local viewers = redis.call('GET', ARGV[1] .. 'presence:' .. worker)
  if viewers then total = total + tonumber(viewers) else redis.call('SREM', KEYS[1], worker) end
end
return total
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


class RedisStore:
    name = "redis"

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url = url
        self.writer_id = uuid.uuid4().hex
        self.listening = False
        self._prefix = prefix
        self._notify = prefix + "changes"
        # A short retry rides out a blip; a long one would make every request hang while
        # Redis is down instead of failing fast and letting the channel run on its cache.
        # A burst of viewers connecting at once waits for one of a bounded set of connections
        # (the plain pool raises "Too many connections" past 100 instead).
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=5,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=10,
            retry=Retry(ExponentialWithJitterBackoff(base=0.02, cap=0.2), 2),
        )
        self._redis = Redis.from_pool(pool)
        # The listener never retries on its own: a silent reconnect would hide that
        # notifications were lost meanwhile, and changes() must reload after any gap.
        self._listener = Redis.from_url(
            url, socket_connect_timeout=2, health_check_interval=10, retry=Retry(NoBackoff(), 0)
        )
        self._commit = self._redis.register_script(COMMIT)
        self._toggle_vote = self._redis.register_script(TOGGLE_VOTE)
        self._banner = self._redis.register_script(BANNER)
        self._presence = self._redis.register_script(PRESENCE)

    @classmethod
    async def connect(cls, url: str, prefix: str = PREFIX) -> RedisStore:
        store = cls(url, prefix)
        try:
            await store._redis.ping()
        except RedisError as error:
            await store.close()
            raise SystemExit(f"Redis at {redact(url)} is unreachable: {error}") from None
        return store

    def _key(self, name: str) -> str:
        return self._prefix + name

    async def load(self) -> Snapshot:
        # MULTI/EXEC: the catalog and the anchor come from the same instant.
        async with self._redis.pipeline(transaction=True) as pipe:
            fields = ["anchor_id", "started_at", "version", "resume_id", "banner", "slot",
                      "back_id", "schedule"]
            pipe.hmget(self._key("channel"), fields)
            pipe.zrange(self._key("order"), 0, -1)
            pipe.hgetall(self._key("videos"))
            (anchor_id, started_at, version, resume, banner, slot, back, schedule), order, rows = (
                await pipe.execute()
            )
        videos = [Video.from_dict(json.loads(rows[vid])) for vid in order if vid in rows]
        anchor = Anchor(
            anchor_id.decode() if anchor_id else None,
            float(started_at or 0),
            json.loads(resume) if resume else None,  # JSON: an override may resume with ""
            slot.decode() if slot else "",
            json.loads(back) if back else None,
        )
        programme = slots.parse(json.loads(schedule)) if schedule else Schedule()
        state = ChannelState(
            anchor, int(version or 0), banner.decode() if banner else "", programme
        )
        return Snapshot(videos, state)

    async def set_banner(self, text: str) -> None:
        await self._banner(
            keys=[self._key("channel")], args=[text, self._notice(CATALOG), self._notify]
        )

    async def commit(
        self,
        expected_version: int,
        anchor: Anchor,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Sequence[str] | None = None,
        schedule: Schedule | None = None,
    ) -> bool:
        keys = [self._key(k) for k in ("channel", "videos", "order", "likes", "dislikes")]
        args: list[Any] = [
            expected_version,
            anchor.video_id or "",
            repr(anchor.started_at),  # repr keeps every bit of the float
            json.dumps([[video.id, json.dumps(video.to_dict())] for video in upsert]),
            remove or "",
            self._notice(CATALOG),
            self._notify,
            self._prefix,
            json.dumps(anchor.resume_id),
            json.dumps(list(order)) if order is not None else "",
            anchor.slot,
            json.dumps(anchor.back_id),
            json.dumps(schedule.to_json()) if schedule is not None else "",
        ]
        return bool(await self._commit(keys=keys, args=args))

    async def toggle_vote(self, video_id: str, viewer_id: str, value: int) -> Vote:
        keys = [
            self._key(f"votes:{video_id}"),
            self._key(f"voter:{viewer_id}"),
            self._key("likes"),
            self._key("dislikes"),
        ]
        args: list[str | int] = [
            video_id,
            viewer_id,
            value,
            self._notice(VOTES, video_id),
            self._notify,
        ]
        likes, dislikes, mine = await self._toggle_vote(keys=keys, args=args)
        return Vote(Counts(int(likes), int(dislikes)), int(mine))

    async def counts(self, video_ids: Collection[str] | None = None) -> dict[str, Counts]:
        if video_ids is not None:
            ids = list(video_ids)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hmget(self._key("likes"), ids)
                pipe.hmget(self._key("dislikes"), ids)
                likes, dislikes = await pipe.execute()
            return {
                vid: Counts(int(up or 0), int(down or 0))
                for vid, up, down in zip(ids, likes, dislikes, strict=True)
            }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._key("likes"))
            pipe.hgetall(self._key("dislikes"))
            likes, dislikes = await pipe.execute()
        return {
            vid.decode(): Counts(int(likes.get(vid, 0)), int(dislikes.get(vid, 0)))
            for vid in likes.keys() | dislikes.keys()
        }

    def _notice(self, *what: str) -> str:
        return SEPARATOR.join([self.writer_id, *what])

    def _change(self, message: bytes) -> Change | None:
        """What a notice says changed; None for this process's own."""
        writer, _, what = message.decode(errors="replace").partition(SEPARATOR)
        if writer == self.writer_id:
            return None
        kind, _, video_id = what.partition(SEPARATOR)
        if kind == VOTES and video_id:
            return Change(votes=frozenset([video_id]))
        return EVERYTHING  # a catalog change, or a notice from an older version: reload all

    async def viewer_votes(self, viewer_id: str) -> dict[str, int]:
        try:
            votes = await self._redis.hgetall(self._key(f"voter:{viewer_id}"))
        except (RedisError, OSError):
            # Only decorates the page (which button is lit); a viewer (re)connecting to the
            # stream while Redis is away must still get the state and keep playing.
            return {}
        return {_text(vid): int(value) for vid, value in votes.items()}

    async def report_viewers(self, worker_id: str, viewers: int, now: float) -> int:
        args: list[str | int] = [self._prefix, worker_id, viewers, PRESENCE_TTL_MS]
        return int(await self._presence(keys=[self._key("workers")], args=args))

    async def changes(self) -> AsyncIterator[Change]:
        """Yields EVERYTHING after every (re)subscription, since anything may have changed while
        this process was not listening, and then once per burst of other writers' changes."""
        attempt = 0
        while True:
            pubsub = self._listener.pubsub()
            try:
                await pubsub.subscribe(self._notify)
                # Only once Redis confirms are later changes sure to reach us; a reload
                # before that could miss one.
                confirmed = await pubsub.get_message(timeout=HEALTH_TIMEOUT)
                if confirmed is None or confirmed["type"] != "subscribe":
                    raise RedisError(f"no subscription confirmation: {confirmed!r}")
                self.listening, attempt = True, 0
                yield EVERYTHING
                while True:
                    message = await self._next(pubsub, timeout=30.0)
                    change = Change()
                    # Drain what already arrived: a burst of 100 votes is one reload.
                    while message is not None:
                        change |= self._change(message["data"]) or Change()
                        message = await self._next(pubsub, timeout=0.0)
                    if change:
                        yield change
            except (RedisError, OSError) as error:
                if self.listening:
                    log.warning("lost the Redis change feed (%s); reconnecting", error)
                self.listening = False
            finally:
                self.listening = False
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1

    @staticmethod
    async def _next(pubsub: PubSub, timeout: float) -> dict[str, Any] | None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return message if message is None or message["type"] == "message" else None

    async def add_audit(self, entry: dict[str, Any], keep: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self._key("audit"), json.dumps(entry))
            pipe.ltrim(self._key("audit"), 0, keep - 1)
            await pipe.execute()

    async def audit(self, limit: int) -> list[dict[str, Any]]:
        rows = await self._redis.lrange(self._key("audit"), 0, limit - 1)
        return [json.loads(row) for row in rows]

    async def health(self) -> dict[str, object]:
        report: dict[str, object] = {"store": self.name, "url": redact(self.url)}
        try:
            await asyncio.wait_for(self._redis.ping(), HEALTH_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as error:
            return {**report, "ok": False, "error": f"{type(error).__name__}: {error}"}
        return {**report, "ok": True, "listening": self.listening}

    async def channels(self) -> list[ChannelInfo]:
        rows = await self._redis.hgetall(self._key("channels"))
        found = [ChannelInfo(**json.loads(data)) for data in rows.values()]
        return sorted(found, key=lambda c: c.created)

    async def add_channel(self, channel: ChannelInfo) -> bool:
        data = json.dumps({"slug": channel.slug, "title": channel.title,
                           "created": channel.created})
        return bool(await self._redis.hsetnx(self._key("channels"), channel.slug, data))

    async def rename_channel(self, slug: str, title: str) -> bool:
        # One writer at a time per field is enough: a rename racing a delete loses either way.
        data = await self._redis.hget(self._key("channels"), slug)
        if data is None:
            return False
        entry = {**json.loads(data), "title": title}
        await self._redis.hset(self._key("channels"), slug, json.dumps(entry))
        return True

    async def remove_channel(self, slug: str) -> bool:
        return bool(await self._redis.hdel(self._key("channels"), slug))

    async def close(self) -> None:
        await self._redis.aclose()
        await self._listener.aclose()

    async def drop(self) -> None:
        async for key in self._redis.scan_iter(match=self._prefix + "*", count=500):
            await self._redis.delete(key)
        await self.close()
