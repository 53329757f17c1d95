"""A TCP proxy that delays every chunk by the same latency in both directions, with jitter.

DevTools' latency emulation delays responses only, a one-way asymmetry that biases any round-trip
clock estimate by half the added latency. This proxy delays both directions alike, so a page behind
it sees an honest long path: its clock samples, its event stream and its media loads all cross it.

Run: `python bench/_proxy.py LISTEN_PORT TARGET_PORT [--rtt 150] [--jitter 20]`. Each chunk waits
`rtt/2 - jitter/2 + uniform(0, jitter)` ms one way, never overtaking the chunk before it (TCP keeps
order), so round trips average `rtt` ms and vary by up to `jitter` ms each way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random


class DelayProxy:
    def __init__(self, target_port: int, rtt_ms: float, jitter_ms: float, seed: int = 1) -> None:
        self.target_port = target_port
        self.base = max(0.0, rtt_ms / 2 - jitter_ms / 2) / 1000
        self.jitter = jitter_ms / 1000
        self.rng = random.Random(seed)

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()  # the server is away: the page sees a failed connection
            return
        await asyncio.gather(
            self.pump(client_r, server_w), self.pump(server_r, client_w), return_exceptions=True
        )
        for writer in (client_w, server_w):
            writer.close()

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction, each chunk released at its own due time, in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def release() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()  # one side finished: HTTP needs no half-open connections

        sender = asyncio.create_task(release())
        last_due = 0.0
        try:
            while True:
                data = await reader.read(65536)
                last_due = max(last_due, loop.time() + self.base + self.rng.uniform(0, self.jitter))
                queue.put_nowait((last_due, data))
                if not data:
                    break
        except OSError:
            queue.put_nowait((last_due, b""))
        await sender


async def serve(listen_port: int, target_port: int, rtt_ms: float, jitter_ms: float) -> None:
    proxy = DelayProxy(target_port, rtt_ms, jitter_ms)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listen_port", type=int)
    parser.add_argument("target_port", type=int)
    parser.add_argument("--rtt", type=float, default=150.0, help="mean round trip, ms")
    parser.add_argument("--jitter", type=float, default=20.0, help="spread per direction, ms")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.listen_port, args.target_port, args.rtt, args.jitter))


if __name__ == "__main__":
    main()
