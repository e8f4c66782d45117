"""Virtual radio figures: connect + service discovery, and a write answered by an indication.

Both go through the unmodified bleak API. The peripheral is a minimal echo server (a
control-point-like characteristic that indicates back what it was written), so the figures are
the radio's cost alone; the FTMS simulator adds its own state machine on top.

Run with ``scripts/bench radio``. Wall-clock times, on the virtual-clock loop the tests use and
on asyncio's default loop (where waiting for the next advertisement costs real time).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bleak import BleakClient
from bumble.core import UUID
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service

from simulators.clock import new_virtual_loop
from simulators.radio import VirtualRadio

RUNS = 50
ROUND_TRIPS_PER_CONNECTION = 20
ECHO_UUID = "0000ffe4-0000-1000-8000-00805f9b34fb"


async def echo_peripheral(radio: VirtualRadio) -> str:
    device = await radio.add_peripheral("Echo")
    props = Characteristic.Properties

    def on_write(connection: Connection, value: bytes) -> None:
        # Answer after the write response, as a treadmill's control point does.
        asyncio.get_running_loop().create_task(device.indicate_subscriber(connection, echo, value))

    echo: Characteristic[bytes] = Characteristic(
        UUID.from_16_bits(0xFFE4),
        props.WRITE | props.INDICATE,
        Characteristic.WRITEABLE,
        CharacteristicValue(write=on_write),
    )
    device.add_service(Service(UUID.from_16_bits(0xFFE0), [echo]))
    await device.start_advertising(auto_restart=True, advertising_interval_min=20)
    return device.random_address.to_string(with_type_qualifier=False)


async def measure() -> tuple[list[float], list[float]]:
    connects: list[float] = []
    round_trips: list[float] = []
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    async with VirtualRadio() as radio:
        address = await echo_peripheral(radio)
        for _ in range(RUNS):
            client = BleakClient(address, backend=radio.client_backend)
            started = time.perf_counter()
            await client.connect()
            connects.append(time.perf_counter() - started)
            await client.start_notify(ECHO_UUID, lambda _c, data: answers.put_nowait(bytes(data)))
            for i in range(ROUND_TRIPS_PER_CONNECTION):
                started = time.perf_counter()
                await client.write_gatt_char(ECHO_UUID, bytes([i]), response=True)
                await answers.get()
                round_trips.append(time.perf_counter() - started)
            await client.disconnect()
    return connects, round_trips


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"  {label:<34} median {statistics.median(ordered) * 1e3:7.3f} ms"
        f"   p99 {p99 * 1e3:7.3f} ms   (n={len(ordered)})"
    )


def report(loop_name: str, loop_factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
    coro: Coroutine[Any, Any, tuple[list[float], list[float]]] = measure()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        connects, round_trips = runner.run(coro)
    print(f"{loop_name}:")
    print(line("connect + MTU + discovery", connects))
    print(line("write -> indication round trip", round_trips))


def main() -> None:
    report("virtual-clock loop (tests, --time-scale)", new_virtual_loop)
    report("default asyncio loop (advertising every 20 ms)", asyncio.new_event_loop)


if __name__ == "__main__":
    main()
