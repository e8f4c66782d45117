"""The virtual-clock loop: timers in order at exact virtual times, real I/O still served."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import pytest

from simulators.clock import VirtualClockLoop, new_virtual_loop, run_virtual
from tests.support.virtual_time import advance


def test_twenty_minutes_of_1hz_timers_fire_in_order_at_their_virtual_times() -> None:
    async def session() -> list[float]:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        for second in range(1, 1201):
            loop.call_later(second, lambda: fired.append(loop.time()))
        await advance(1200)
        return fired

    fired = run_virtual(session())

    assert fired == pytest.approx([float(s) for s in range(1, 1201)], abs=1e-6)


def test_periodic_task_ticks_without_drift_and_computation_costs_no_virtual_time() -> None:
    async def ticker() -> list[float]:
        loop = asyncio.get_running_loop()
        ticks = []
        for _ in range(600):
            await advance(0.5)
            before = loop.time()
            sum(range(1_000))  # real work: must not move the virtual clock
            assert loop.time() == before
            ticks.append(loop.time())
        return ticks

    assert run_virtual(ticker()) == pytest.approx([0.5 * i for i in range(1, 601)], abs=1e-6)


def test_timeouts_expire_at_virtual_time() -> None:
    async def waits() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 30)
        after_wait_for = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(15):
                await advance(3600)
        return after_wait_for, loop.time()

    assert run_virtual(waits()) == pytest.approx((30.0, 45.0))


async def test_async_tests_here_run_on_the_virtual_clock() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    start = loop.time()
    await advance(3600)
    assert loop.time() - start == pytest.approx(3600)


async def test_executor_jobs_are_waited_for_in_real_time_not_timed_out() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    start = loop.time()
    total = await asyncio.wait_for(loop.run_in_executor(None, sum, range(1_000_000)), 10)
    assert total == sum(range(1_000_000))
    assert loop.time() - start < 10
    assert loop.pending_executor_jobs == 0
    assert await asyncio.wait_for(loop.getaddrinfo("localhost", 80), 5)


@pytest.mark.parametrize("timer_pending", [False, True])
async def test_signal_handlers_work(timer_pending: bool) -> None:
    loop = asyncio.get_running_loop()
    if timer_pending:
        loop.call_later(3600, lambda: None)
    received = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, received.set)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.wait_for(received.wait(), 60)
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
    assert received.is_set()


async def test_subprocess_output_is_read_when_no_timer_is_pending() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print('hello')", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert out == b"hello\n"
    assert process.returncode == 0


def test_time_scale_waits_real_time_in_proportion() -> None:
    async def sleep_half_a_second() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await advance(0.5)
        return loop.time() - start

    started = time.monotonic()
    # The loop's own few microseconds of processing count too (at most their real duration).
    assert run_virtual(sleep_half_a_second(), time_scale=50) == pytest.approx(0.5, abs=1e-3)
    assert time.monotonic() - started >= 0.5 / 50 * 0.9


def test_time_scale_lets_another_process_reach_the_session_mid_run() -> None:
    """A message from another process is handled when it arrives, at a proportional virtual
    time, well before the session's next timer (which is 600 virtual s = 60 real s away)."""

    async def session() -> float:
        loop = asyncio.get_running_loop()
        next_tick = loop.call_later(600, lambda: None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "print('stop')", stdout=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None
        assert await process.stdout.readline() == b"stop\n"
        arrived = loop.time()
        next_tick.cancel()
        await process.wait()
        return arrived

    arrived = run_virtual(session(), time_scale=10)
    assert 0 < arrived < 600


def _burn_cpu(seconds: float) -> float:
    """Keep the loop busy (no sleeping) for at least `seconds` of real time; returns how long."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        pass
    return time.monotonic() - started


@pytest.mark.parametrize("scale", [0.5, 1.0, 1000.0])
def test_at_a_time_scale_processing_time_moves_the_virtual_clock(scale: float) -> None:
    """Busy callbacks count: at x1 virtual time keeps up with the wall clock however busy the
    loop is; in slow motion it counts scaled; above x1 at its real duration, not X-fold."""

    async def busy() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        loop.call_later(3600, lambda: None)  # a far timer: processing must not jump to it
        start = loop.time()
        burnt = 0.0
        for _ in range(4):
            burnt += _burn_cpu(0.005)
            await asyncio.sleep(0)  # back to the loop, which polls and counts the work
        return loop.time() - start, burnt

    advanced, burnt = run_virtual(busy(), time_scale=scale)

    assert advanced >= burnt * min(scale, 1.0)
    assert advanced < 3600.0  # not jumped to the far timer
    if scale > 1:
        assert advanced < burnt * scale / 2  # its real duration, not X times it


def test_a_loop_that_is_never_idle_still_reaches_its_timers_at_time_scale_1() -> None:
    """A flood of work (here a task that always has more) must not stop the clock: at x1 a
    50 ms timer fires after about 50 ms of busy wall time, not never."""

    async def flooded() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        fired = asyncio.Event()
        loop.call_later(0.05, fired.set)
        give_up = time.monotonic() + 2.0  # a clock that stands still while busy never fires
        while not fired.is_set() and time.monotonic() < give_up:
            _burn_cpu(0.001)
            await asyncio.sleep(0)
        return fired.is_set(), loop.time()

    fired, at = run_virtual(flooded(), time_scale=1.0)
    assert fired
    assert at == pytest.approx(0.05, abs=0.01)


def test_processing_never_carries_the_clock_past_a_due_timer() -> None:
    async def late() -> list[float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        fired: list[float] = []
        loop.call_later(0.002, lambda: fired.append(loop.time() - start))
        _burn_cpu(0.02)  # ten times longer than the timer is away
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return fired

    assert run_virtual(late(), time_scale=1.0) == pytest.approx([0.002], abs=1e-9)


def test_time_before_the_loop_runs_is_not_processing() -> None:
    async def now() -> float:
        return asyncio.get_running_loop().time()

    loop = new_virtual_loop(time_scale=1.0)
    try:
        _burn_cpu(0.02)  # e.g. a test's set-up between creating the loop and running it
        assert loop.run_until_complete(now()) < 0.01
    finally:
        loop.close()


def test_run_virtual_returns_result_and_closes_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def answer() -> int:
        loops.append(asyncio.get_running_loop())
        return 42

    assert run_virtual(answer()) == 42
    assert loops[0].is_closed()


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        new_virtual_loop(time_scale=0)
