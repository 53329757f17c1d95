"""The converting child: `python -m server.transcode.worker SOURCE TARGET OPTIONS SERVER_PID`.

A plain subprocess rather than multiprocessing: Hypercorn's workers are daemonic processes, which
multiprocessing forbids to have children. It answers on stdout, one JSON object per line:
{"progress": seconds converted}, then {"done": duration} or {"failed": reason}.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from .convert import ConversionError, Options, convert

PR_SET_PDEATHSIG = 1  # prctl(2)


class _Stopped(BaseException):
    """SIGTERM reached us: unwind, so `convert` removes its partial file."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def _stop_with_parent() -> None:
    """Have Linux send SIGTERM when the server dies (even by SIGKILL), so a conversion never
    outlives it; elsewhere the next progress report meets a broken pipe instead."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _say(**message: Any) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()  # the server is gone: BrokenPipeError ends us


def main(source: str, target: str, options: str, server: str) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    _stop_with_parent()
    if os.getppid() != int(server):
        return  # the server died while we started
    os.nice(10)  # the server's clock and SSE fan-out come first on a small machine
    chosen = Options(**json.loads(options))
    if chosen.memory_limit:
        # A file that needs more than this (a resolution bomb) fails this job, not the machine.
        resource.setrlimit(resource.RLIMIT_AS, (chosen.memory_limit, chosen.memory_limit))
    try:
        try:
            duration = convert(Path(source), Path(target), chosen, lambda s: _say(progress=s))
        except ConversionError as error:
            _say(failed=str(error))
        except MemoryError:
            _say(failed="Converting this video needs more memory than a conversion may use.")
        else:
            _say(done=duration)
    except BrokenPipeError:
        pass  # the server died; whoever runs the queue next starts this job again
    except _Stopped:
        # Die of the signal once cleaned up: the server tells a stop from a failure by it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    # Answered, and the file is renamed or removed: skip the interpreter's slow teardown.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:5])
