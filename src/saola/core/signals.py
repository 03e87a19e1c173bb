"""Stopping a long-running command (``saola ingest``, ``saola simulate``) on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set when the process receives SIGINT or SIGTERM; call it inside the running loop.

    Outside the main thread (a command run from a test) or where the loop has no signal support,
    nothing is installed and the caller stops by other means (its duration, its own event).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return stop
