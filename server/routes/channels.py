"""`/channels`: list, create, rename and delete channels; each one's schedule; a video of one
channel added to another (the same file). Changes are admin only and audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from quart import Response, current_app, g, jsonify, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

from shared.slots import ScheduleError, parse

from ..access import ADMIN
from ..catalog import Status
from ..channel import ChannelError
from ..channels import Channels, Running, listing
from ..services import services
from ._access import caller, requires
from ._errors import error

# What every channel has under /c/<slug> (/c/lobby/ambient, /c/lobby/video-updates, ...); at the
# site's own URLs they are the default channel's, as they always were. The media, time, health,
# assets and screen reports are there too, so /c/<slug> works as a server address of its own
# (the kiosk's --channel).
PER_CHANNEL = frozenset(
    {
        "/", "/ambient", "/upload", "/qr/upload.svg", "/video-updates", "/my-votes", "/videos",
        "/videos/<video_id>", "/videos/<video_id>/next", "/videos/<video_id>/approve",
        "/playlist", "/override", "/banner", "/like/<int(signed=True):index>",
        "/dislike/<int(signed=True):index>", "/skip", "/uploads", "/videos/<video_id>/captions",
        "/time", "/healthz", "/assets/<path:path>", "/screens/report", "/media/v/<video_id>",
        "/media/v/<video_id>/webm", "/media/v/<video_id>/poster.jpg",
        "/media/v/<video_id>/captions.vtt", "/programme",
    }
)


def _channels() -> Channels:
    channels = services().channels
    assert channels is not None, "the channels start with the server"
    return channels


async def in_channel(slug: str, rest: str = "") -> Response:
    """`/c/<slug>/<rest>`: the endpoint at `/<rest>`, for the channel `slug`."""
    running = await _channels().lookup(slug)
    if running is None:
        return error(404, f"No channel {slug!r}: see GET /channels.", slug=slug)
    adapter = current_app.url_map.bind(request.host)
    try:
        rule, args = adapter.match("/" + rest, method=request.method, return_rule=True)
    except RequestRedirect:  # a trailing slash too many: no such page
        raise NotFound() from None
    if rule.rule not in PER_CHANNEL or rule.endpoint is None:
        raise NotFound()
    g.channel = running
    g.endpoint = rule.endpoint  # what ran, for the metrics (request.endpoint names this view)
    # Every view of PER_CHANNEL is one of ours: async, answering a Response.
    view = cast(Callable[..., Awaitable[Response]], current_app.view_functions[rule.endpoint])
    return await view(**args)


async def _named(slug: str) -> Running | Response:
    running = await _channels().lookup(slug)
    return running if running is not None else error(404, f"No channel {slug!r}.", slug=slug)


async def _body() -> dict[str, Any] | Response:
    body = await request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "Send a JSON object (Content-Type: application/json).")
    return body


async def listed() -> Response:
    channels = _channels()
    return jsonify(
        {
            "channels": [listing(r) for r in channels],
            "timezone": services().settings.timezone.key,
        }
    )


@requires(ADMIN)
async def create() -> Response:
    body = await _body()
    if isinstance(body, Response):
        return body
    if unknown := sorted(set(body) - {"slug", "title"}):
        return error(400, f"Unknown fields: {', '.join(unknown)}; allowed: slug, title.")
    try:
        running = await _channels().create(body.get("slug"), body.get("title"))
    except ChannelError as refused:
        field = str(refused).partition(":")[0]
        status = 409 if "exists already" in str(refused) else 400
        return error(status, str(refused), field=field)
    title = running.info.title
    await services().audit.record(caller(), "create channel", running.slug, title=title)
    response = jsonify({"success": True, "channel": listing(running)})
    response.status_code = 201
    return response


@requires(ADMIN)
async def rename(slug: str) -> Response:
    body = await _body()
    if isinstance(body, Response):
        return body
    if set(body) != {"title"}:
        return error(400, 'Send {"title": "..."}.')
    try:
        running = await _channels().rename(slug, body["title"])
    except LookupError:
        return error(404, f"No channel {slug!r}.", slug=slug)
    except ChannelError as refused:
        return error(400, str(refused), field="title")
    await services().audit.record(caller(), "rename channel", slug, title=running.info.title)
    return jsonify({"success": True, "channel": listing(running)})


@requires(ADMIN)
async def delete(slug: str) -> Response:
    try:
        await _channels().delete(slug)
    except LookupError:
        return error(404, f"No channel {slug!r}.", slug=slug)
    except ChannelError as refused:
        return error(409, str(refused), slug=slug)
    await services().audit.record(caller(), "delete channel", slug)
    return jsonify({"success": True, "slug": slug})


def _schedule_of(running: Running) -> dict[str, Any]:
    return {
        "slug": listing(running)["slug"],
        "timezone": running.channel.zone.key,
        **running.channel.schedule.to_json(),
    }


async def schedule(slug: str) -> Response:
    running = await _named(slug)
    if isinstance(running, Response):
        return running
    return jsonify(_schedule_of(running))


async def programme() -> Response:
    """Anyone: what the channel's schedule needs to be worked out away from the server (a
    kiosk keeps it to play on through an outage, across slot boundaries)."""
    return jsonify(services().ch.programme_view())


async def _named_with_body(slug: str) -> tuple[Running, dict[str, Any]] | Response:
    """The channel `slug` and the JSON object sent, or the 404/400 that says what is wrong."""
    running = await _named(slug)
    if isinstance(running, Response):
        return running
    body = await _body()
    return body if isinstance(body, Response) else (running, body)


@requires(ADMIN)
async def put_schedule(slug: str) -> Response:
    found = await _named_with_body(slug)
    if isinstance(found, Response):
        return found
    running, body = found
    channel = running.channel
    try:
        # A slot may name any video of the channel that is not deleted (hidden ones too).
        parsed = parse(body, known=[v.id for v in channel.videos if not v.gone])
    except ScheduleError as refused:
        return error(400, str(refused), field=refused.field)
    await channel.set_schedule(parsed)
    await services().audit.record(caller(), "schedule", slug, slots=len(parsed.slots))
    return jsonify({"success": True, **_schedule_of(running)})


@requires(ADMIN)
async def add_video(slug: str) -> Response:
    """A ready video of any channel joins this one: the same file, its own votes here."""
    found = await _named_with_body(slug)
    if isinstance(found, Response):
        return found
    running, body = found
    video_id = body.get("id")
    if not isinstance(video_id, str) or set(body) != {"id"}:
        return error(400, 'Send {"id": "<video id>"} (a video of any channel).')
    video = _channels().find_video(video_id)
    if video is None:
        return error(404, "No such video.", id=video_id)
    if video.status != Status.READY:
        return error(409, "Only a ready video can join another channel.", id=video_id)
    if running.channel.find(video_id) is not None:
        return error(409, "That video is in this channel already.", id=video_id)
    await running.channel.upsert(video)
    await services().audit.record(caller(), "add to channel", video_id, channel=slug)
    return jsonify(
        {"success": True, "id": video_id, "index": running.channel.position(video_id)}
    )
