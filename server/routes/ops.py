"""For operators and their tools: readiness, Prometheus metrics and the proof-of-play log."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from quart import Response, jsonify, request

from ..access import ADMIN
from ..metrics import CONTENT_TYPE, exposition
from ..plays import DAY, PlayQueryError, parse_channel, parse_time, to_csv
from ..services import services
from ._access import requires
from ._errors import error


async def ready() -> Response:
    """Ready to serve: the channel is loaded, its store and the fleet store answer, and every
    storage has been checked. S3 trouble is reported but does not fail readiness: uploads then
    go to local disk and every other video still plays."""
    state = services()
    if state.channel is None or state.monitoring is None:
        return error(503, "Starting up.", ready=False)
    checks: dict[str, Any] = {
        "store": (await state.ch.health())["store"],
        "fleet": await state.watch.fleet.health(),
        "storages": await state.storages.health(),
    }
    optional = state.storages.optional()
    local_ok = all(s.get("ok") for name, s in checks["storages"].items() if name not in optional)
    ok = bool(checks["store"].get("ok") and checks["fleet"].get("ok") and local_ok)
    response = jsonify({"ready": ok, **checks})
    response.status_code = 200 if ok else 503
    return response


def _metrics_refusal() -> Response | None:
    token = services().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return error(401, "Missing or wrong metrics token (Authorization: Bearer ...).")
        return None
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        return error(403, "Metrics are open to 127.0.0.1 only; set METRICS_TOKEN to scrape.")
    return None


async def metrics() -> Response:
    """Prometheus scrape: METRICS_TOKEN as a Bearer token, or from this machine when unset."""
    if (refusal := _metrics_refusal()) is not None:
        return refusal
    state = services()
    body = await exposition(state, state.watch.fleet, state.tally)
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


@requires(ADMIN)
async def plays() -> Response:
    """Admin: what played when, ?from=&to= (Unix seconds or ISO 8601; the last 24 h by
    default), on ?channel= (a slug, also of a deleted channel; * for every channel; the
    default channel's when not given, as before channels), as JSON, or CSV with ?format=csv
    or Accept: text/csv."""
    state = services()
    now = state.ch.now()
    try:
        end = parse_time(request.args.get("to"), now, "to")
        start = parse_time(request.args.get("from"), end - DAY, "from")
        channel = parse_channel(request.args.get("channel"))
    except PlayQueryError as failure:
        return error(400, str(failure))
    if start >= end:
        return error(400, "from must be before to.")
    names = {s["id"]: s.get("name") for s in await state.watch.fleet.screens()}
    listed = await state.watch.plays.between(start, end, names.get, channel)
    wanted = request.args.get("format") or (
        "csv"
        if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
        else "json"
    )
    if wanted == "csv":
        return Response(
            to_csv(listed),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="plays.csv"'},
        )
    if wanted != "json":
        return error(400, "format must be json or csv.")
    return jsonify({"from": start, "to": end, "plays": listed})
