"""Every route of the server, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Quart, Response

from . import (
    api,
    captions,
    channels,
    media,
    ops,
    pages,
    playlist,
    screens,
    session,
    stream,
    uploads,
)

View = Callable[..., Awaitable[Response]]


def register(app: Quart) -> None:
    routes: list[tuple[str, str, View]] = [
        ("/", "GET", pages.index),
        ("/ambient", "GET", pages.ambient),
        ("/upload", "GET", pages.upload),
        ("/admin", "GET", pages.admin),
        ("/assets/<path:path>", "GET", pages.asset),
        ("/qr/upload.svg", "GET", pages.upload_qr),
        ("/video-updates", "GET", stream.updates),
        ("/my-votes", "GET", stream.my_votes),
        ("/time", "GET", api.server_time),
        ("/videos", "GET", api.videos),
        ("/videos/<video_id>", "DELETE", api.delete_video),
        ("/videos/<video_id>", "PATCH", playlist.update_video),
        ("/videos/<video_id>/next", "POST", playlist.play_next),
        ("/videos/<video_id>/approve", "POST", playlist.approve),
        ("/playlist", "PUT", playlist.reorder),
        ("/override", "POST", playlist.start_override),
        ("/override", "DELETE", playlist.end_override),
        ("/banner", "PUT", playlist.set_banner),
        ("/banner", "DELETE", playlist.clear_banner),
        ("/like/<int(signed=True):index>", "POST", api.like),
        ("/dislike/<int(signed=True):index>", "POST", api.dislike),
        ("/skip", "POST", api.skip),
        ("/healthz", "GET", api.health),
        ("/openapi.json", "GET", api.openapi),
        ("/session", "GET", session.who),
        ("/session", "POST", session.sign_in),
        ("/session", "DELETE", session.sign_out),
        ("/admin/audit", "GET", session.audit),
        ("/uploads", "GET", uploads.rules),
        ("/readyz", "GET", ops.ready),
        ("/metrics", "GET", ops.metrics),
        ("/admin/plays", "GET", ops.plays),
        ("/screens", "GET", screens.listed),
        ("/screens/report", "POST", screens.report),
        ("/screens/<screen_id>", "PATCH", screens.rename),
        ("/screens/<screen_id>", "DELETE", screens.forget),
        ("/screens/<screen_id>/channel", "PUT", screens.move),
        ("/screens/<screen_id>/<any(identify, reload):action>", "POST", screens.act),
        ("/screens/<screen_id>/wall", "PUT", screens.assign),
        ("/walls", "GET", screens.walls),
        ("/walls", "POST", screens.create_wall),
        ("/walls/<wall_id>", "PATCH", screens.update_wall),
        ("/walls/<wall_id>", "DELETE", screens.delete_wall),
        ("/uploads", "POST", uploads.upload),
        ("/media/v/<video_id>", "GET", media.video),
        ("/media/v/<video_id>/webm", "GET", media.rendition),
        ("/media/v/<video_id>/poster.jpg", "GET", media.poster),
        ("/media/v/<video_id>/captions.vtt", "GET", media.captions),
        ("/videos/<video_id>/captions", "POST", captions.put),
        ("/videos/<video_id>/captions", "DELETE", captions.delete),
        ("/channels", "GET", channels.listed),
        ("/channels", "POST", channels.create),
        ("/channels/<slug>", "PATCH", channels.rename),
        ("/channels/<slug>", "DELETE", channels.delete),
        ("/channels/<slug>/schedule", "GET", channels.schedule),
        ("/channels/<slug>/schedule", "PUT", channels.put_schedule),
        ("/channels/<slug>/videos", "POST", channels.add_video),
        ("/programme", "GET", channels.programme),
    ]
    for rule, method, view in routes:
        endpoint = view.__module__.rsplit(".", 1)[-1] + "." + view.__name__
        app.add_url_rule(rule, endpoint, view, methods=[method])
    # Every channel's pages and endpoints: /c/lobby/ambient is /ambient for the lobby.
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/c/<slug>/", "channels.in_channel", channels.in_channel, methods=["GET"])
    app.add_url_rule(
        "/c/<slug>/<path:rest>", "channels.in_channel_path", channels.in_channel, methods=every
    )
    app.register_error_handler(404, api.not_found)
    app.register_error_handler(405, api.method_not_allowed)
    app.register_error_handler(413, api.too_large)
    app.register_error_handler(Exception, api.unexpected)
