"""PyAV helpers shared by the probe, the conversion and the posters: a file's picture stream,
the frames of a packet, and a frame turned upright and scaled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import av
import av.container
import av.filter
import av.stream


def picture_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The file's moving picture: cover art in audio files shows up as a one-picture "video"
    stream (attached_pic), which is no video at all."""
    return next(
        (
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ),
        None,
    )


def decoded(packet: av.Packet[Any]) -> Iterator[av.VideoFrame | av.AudioFrame]:
    """The packet's frames; none when it is damaged."""
    try:
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame | av.AudioFrame):
                yield frame
    except av.InvalidDataError:
        return  # one damaged packet: skip it as players do, keep the rest


def upright_size(frame: av.VideoFrame) -> tuple[int, int]:
    """The picture's size as players show it, turned by its display matrix."""
    if round(frame.rotation / 90) % 2:
        return frame.height, frame.width
    return frame.width, frame.height


def picture_graph(
    stream: av.VideoStream,
    first: av.VideoFrame,
    width: int,
    height: int,
    pix_fmt: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> av.filter.Graph:
    """Filters from a decoded frame to an upright picture of the given size and format."""
    graph = av.filter.Graph()
    nodes = [graph.add_buffer(template=stream)]
    steps = [*_rotation_filters(first.rotation), *extra]
    steps += [("scale", f"{width}:{height}"), ("format", pix_fmt)]
    nodes += [graph.add(name, args) for name, args in steps]
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


def _rotation_filters(rotation: float) -> list[tuple[str, str]]:
    # Phones record sideways and say so in a display matrix; players turn the picture, and
    # so must we, since the rendition (and a JPEG) carries no matrix.
    turn = round(rotation / 90) % 4
    return {
        1: [("transpose", "cclock")],
        2: [("hflip", ""), ("vflip", "")],
        3: [("transpose", "clock")],
    }.get(turn, [])
