"""FTMS simulator figures on the virtual radio.

Everything goes through the unmodified bleak API against `open_simulator("generic")`, so the
figures include the simulated treadmill's state machine and Bumble's ATT/GATT stack:

1. connect + MTU + discovery + subscriptions, a new connection each run;
2. control point round trip: a Set Target Speed write until its indication arrives;
3. 1200 virtual seconds of a running session: wall and CPU time to deliver the 1 Hz Treadmill
   Data (CPU time is the steadier figure on a busy machine).

Wall-clock times on the virtual-clock loop the tests and `run --sim` use.
Run with ``scripts/bench simulator`` (or ``python -m benchmarks.simulator``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from bleak import BleakClient

from retrotread.ftms import control_point
from retrotread.ftms.uuids import CONTROL_POINT_UUID, TREADMILL_DATA_UUID
from simulators.clock import run_virtual
from simulators.harness import Simulator, open_simulator

CONNECT_RUNS = 30
ROUND_TRIPS = 200
SESSION_S = 1200.0
SESSIONS = 3
TARGET_SPEEDS_KMH = (3.0, 3.5)


@dataclass
class Figures:
    connects: list[float] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)
    session_wall_s: list[float] = field(default_factory=list)
    session_cpu_s: list[float] = field(default_factory=list)
    session_notifications: list[int] = field(default_factory=list)


async def _connected(sim: Simulator, answers: asyncio.Queue[bytes]) -> BleakClient:
    client = BleakClient(sim.address, backend=sim.client_backend)
    await client.connect()
    await client.start_notify(CONTROL_POINT_UUID, lambda _c, data: answers.put_nowait(bytes(data)))
    return client


async def measure_connects(sim: Simulator, figures: Figures) -> None:
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    for _ in range(CONNECT_RUNS):
        started = time.perf_counter()
        client = await _connected(sim, answers)
        await client.start_notify(TREADMILL_DATA_UUID, lambda _c, _d: None)
        figures.connects.append(time.perf_counter() - started)
        await client.disconnect()


async def measure_round_trips(sim: Simulator, figures: Figures) -> None:
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    client = await _connected(sim, answers)
    await client.write_gatt_char(CONTROL_POINT_UUID, control_point.request_control(), response=True)
    await asyncio.wait_for(answers.get(), 5)
    requests = [control_point.set_target_speed(kmh) for kmh in TARGET_SPEEDS_KMH]
    for i in range(ROUND_TRIPS):
        started = time.perf_counter()
        await client.write_gatt_char(CONTROL_POINT_UUID, requests[i % 2], response=True)
        answer = await asyncio.wait_for(answers.get(), 5)
        figures.round_trips.append(time.perf_counter() - started)
        assert answer[2] == control_point.ResultCode.success, answer.hex()
    await client.disconnect()


async def measure_session(sim: Simulator, figures: Figures) -> None:
    received = 0

    def on_data(_c: object, _data: bytearray) -> None:
        nonlocal received
        received += 1

    answers: asyncio.Queue[bytes] = asyncio.Queue()
    client = await _connected(sim, answers)
    await client.start_notify(TREADMILL_DATA_UUID, on_data)
    for request in (
        control_point.request_control(),
        control_point.set_target_speed(4.0),
        control_point.start_or_resume(),
    ):
        await client.write_gatt_char(CONTROL_POINT_UUID, request, response=True)
        await asyncio.wait_for(answers.get(), 5)
    for _ in range(SESSIONS):
        received = 0
        started, started_cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(SESSION_S)
        figures.session_wall_s.append(time.perf_counter() - started)
        figures.session_cpu_s.append(time.process_time() - started_cpu)
        figures.session_notifications.append(received)
    await client.disconnect()


async def measure() -> Figures:
    figures = Figures()
    async with open_simulator("generic") as sim:
        await measure_connects(sim, figures)
        await measure_round_trips(sim, figures)
        await measure_session(sim, figures)
    return figures


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"  {label:<38} median {statistics.median(ordered) * 1e3:7.3f} ms"
        f"   p99 {p99 * 1e3:7.3f} ms   (n={len(ordered)})"
    )


def main() -> None:
    figures = run_virtual(measure())
    print("FTMS simulator 'generic' on the virtual radio (virtual-clock loop, wall time):")
    print(line("connect + MTU + discovery + subscribe", figures.connects))
    print(line("control point write -> indication", figures.round_trips))
    wall = statistics.median(figures.session_wall_s)
    cpu = statistics.median(figures.session_cpu_s)
    notifications = statistics.median(figures.session_notifications)
    print(
        f"  {SESSION_S:.0f} virtual s of Treadmill Data at 1 Hz  "
        f"median of {SESSIONS}: {wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU, "
        f"{notifications:.0f} notifications ({cpu / max(1, notifications) * 1e6:.0f} us CPU each)"
    )

if __name__ == "__main__":
    main()
