"""An asyncio event loop whose clock is virtual, so a 20-minute session simulates in a blink.

Scaling the real clock distorts results (computation eats virtual time: at x1000 a fifth of the
1 Hz notifications went missing). As fast as possible (no time scale), this loop instead keeps
time still while work is ready and, when nothing is ready, *jumps* to the next timer. Real I/O
is still polled (timeout 0) before every jump, and the loop blocks on I/O only when no timer is
pending at all. While callbacks are ready back to back, real I/O is polled at most once per real
millisecond (a system call on every pass cost ~10 % of a simulated session).

With ``time_scale=X`` each jump of ``d`` virtual seconds first waits up to ``d / X`` real seconds
for I/O, so other processes (``retrotread stop`` over the control socket, an MQTT broker) can
reach a session that runs X times faster than real time. I/O arriving during that wait is handled
at the proportional virtual time.

At a time scale, processing costs virtual time too: the real time the loop spends running
callbacks (between two polls) moves the clock on by that much, times ``min(X, 1)``, but never past
the next timer, which still fires at its exact virtual time. So at ``--time-scale 1`` virtual time
is wall time even when the loop is busy (a flood of socket traffic no longer slows the simulated
belt down), and a slow motion run (X < 1) stays X times wall time. Above 1, processing counts at
its real duration rather than X times it: only waiting is compressed. Counting it X-fold would
turn a millisecond of work at ``--time-scale 100000`` into 100 virtual seconds, so every message
still crossing the virtual radio would arrive after the watchdogs waiting for it.

Threads started with ``run_in_executor`` (``getaddrinfo`` among them) do not run on virtual time:
while one is pending the loop waits for it in real time instead of jumping past it, so a virtual
timeout does not fire just because the thread needed a real millisecond.

Beware: with no time scale, any other real I/O still races against pending virtual timers (a
socket that needs 1 ms of real time to answer loses to a 10 s virtual timeout). Use a time scale
when the session talks to real processes.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")

_Events = list[tuple[selectors.SelectorKey, int]]

# While callbacks keep the loop busy, poll real I/O at most this often (real seconds).
_BUSY_POLL_INTERVAL_S = 0.001


class _VirtualTimeSelector(selectors.DefaultSelector):
    """The selector is where asyncio would sleep: here it advances the virtual clock instead."""

    def __init__(self, clock: VirtualClockLoop) -> None:
        super().__init__()
        self._clock = clock
        self._last_poll = time.monotonic()
        self._busy_since = time.monotonic()

    def start_counting(self) -> None:
        """Processing is counted from now on (the loop starts running; time before is not its)."""
        self._busy_since = time.monotonic()

    def select(self, timeout: float | None = None) -> _Events:
        if self._clock.time_scale is not None:
            timeout = self._count_processing(timeout)
        try:
            return self._select(timeout)
        finally:
            self._busy_since = time.monotonic()

    def _count_processing(self, timeout: float | None) -> float | None:
        """Move the clock on by the real time spent since the last poll (see the module
        docstring), never past the next timer; returns what is left of ``timeout``."""
        clock = self._clock
        assert clock.time_scale is not None
        busy = (time.monotonic() - self._busy_since) * min(clock.time_scale, 1.0)
        if timeout is not None and timeout > 0:
            step = min(busy, timeout)
            clock.advance(step)
            return timeout - step
        next_timer = clock.next_timer_in()
        clock.advance(busy if next_timer is None else min(busy, next_timer))
        return timeout

    def _select(self, timeout: float | None) -> _Events:
        clock = self._clock
        if timeout is not None and timeout <= 0:
            # Callbacks are ready: skip the I/O poll (a system call per loop pass) unless a
            # little real time has passed since the last one, so real I/O still gets in.
            now = time.monotonic()
            if now - self._last_poll < _BUSY_POLL_INTERVAL_S:
                return []
            self._last_poll = now
            return super().select(0)
        self._last_poll = time.monotonic()
        if timeout is None:
            return self._block_without_timers()
        if clock.pending_executor_jobs:
            return self._wait_real(timeout, timeout, scale=1.0)
        if clock.time_scale is None:
            events = super().select(0)
            if not events:
                clock.advance(timeout)
            return events
        return self._wait_real(timeout, timeout / clock.time_scale, scale=clock.time_scale)

    def _block_without_timers(self) -> _Events:
        """Nothing is scheduled: only I/O (or a signal, or a thread) can wake us."""
        scale = self._clock.time_scale
        started = time.monotonic()
        events = super().select(None)
        if scale is not None:
            self._clock.advance((time.monotonic() - started) * scale)
        return events

    def _wait_real(self, jump: float, real_wait: float, scale: float) -> _Events:
        """Wait up to ``real_wait`` real seconds; advance virtual time by the share that passed."""
        started = time.monotonic()
        events = super().select(real_wait)
        if events:
            self._clock.advance(min(jump, (time.monotonic() - started) * scale))
        else:
            self._clock.advance(jump)
        return events


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A SelectorEventLoop on virtual time (starts at 0.0); see the module docstring."""

    def __init__(self, time_scale: float | None = None) -> None:
        self.time_scale = time_scale
        self.pending_executor_jobs = 0
        self._now = 0.0
        self._virtual_selector = _VirtualTimeSelector(self)
        super().__init__(selector=self._virtual_selector)
        if time_scale is not None and time_scale <= 0:
            self.close()
            raise ValueError(f"time_scale must be > 0, got {time_scale}")

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (never backward)."""
        if seconds > 0:
            self._now += seconds

    def next_timer_in(self) -> float | None:
        """Virtual seconds until the earliest scheduled timer (0 when due), None without one."""
        # asyncio keeps its timers in a heap on the loop; typeshed does not declare it.
        scheduled: list[asyncio.TimerHandle] = getattr(self, "_scheduled", [])
        if not scheduled:
            return None
        return max(0.0, scheduled[0].when() - self._now)

    def run_forever(self) -> None:
        self._virtual_selector.start_counting()
        super().run_forever()

    def run_in_executor(  # type: ignore[override]
        self, executor: Executor | None, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self.pending_executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, _future: asyncio.Future[Any]) -> None:
        self.pending_executor_jobs -= 1


def new_virtual_loop(time_scale: float | None = None) -> VirtualClockLoop:
    """A fresh virtual-clock loop; ``time_scale=None`` runs as fast as the CPU allows."""
    return VirtualClockLoop(time_scale)


def run_virtual(coro: Coroutine[Any, Any, T], time_scale: float | None = None) -> T:
    """Like ``asyncio.run`` but on a virtual-clock loop."""
    with asyncio.Runner(loop_factory=lambda: new_virtual_loop(time_scale)) as runner:
        return runner.run(coro)
