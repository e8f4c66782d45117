"""One call to stand up a simulated treadmill on a virtual radio, for tests and `run --sim`.

    async with open_simulator("coarse-grid", faults=["overspeed@300:1.5"]) as sim:
        async with BleakClient(sim.address, backend=sim.client_backend) as client: ...

Several simulators may share one radio (pass `radio=`); without one, the simulator brings its
own and closes it on exit. On exit the simulator's device leaves the radio, so its address is
unknown there afterwards (BleakDeviceNotFoundError) and free for a new simulator. Must run
inside a loop: the virtual clock of simulators.clock for tests and `--time-scale`, any loop
otherwise.

What reached the machine: `sim.control_log` lists every control-point write as a
`ControlExchange` (in arrival order, refused writes included) with `session_t` (session seconds,
the clock of the fault schedule), `request` (bytes), `op` (FTMS op name or None), `outcome`
(`success`, another FTMS result name, `att_error_0xfe` / `att_error_0xfd`, or `no_answer`) and
`belt_kmh` (the belt's real speed then). `sim.wire_log()` gives the same as the dicts that
`open_simulator(wire_log=PATH)` writes to PATH, one JSON line each (`run --sim-wire-log`);
`read_wire_log(PATH)` reads such a file back, also one cut off by a crash.

`open_simulator(hr_strap=True)` also serves a heart-rate strap (simulators.strap) on the same
radio, reading the treadmill's walker: `sim.strap_address` and `sim.strap`. The console then
forwards no heart rate itself unless the profile's `[strap] console_heart_rate` says so.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from simulators.faults import FaultSpec, parse_fault
from simulators.profiles import Profile, load_profile
from simulators.radio import VirtualRadio
from simulators.strap import SimStrap
from simulators.treadmill import ControlExchange, SimTreadmill, WireRecord


@dataclass(frozen=True)
class Simulator:
    """A running simulated treadmill and the bleak backends that reach it."""

    address: str
    name: str
    radio: VirtualRadio
    treadmill: SimTreadmill
    profile: Profile
    strap: SimStrap | None = None
    strap_address: str | None = None

    @property
    def scanner_backend(self) -> type[BaseBleakScanner]:
        return self.radio.scanner_backend

    @property
    def client_backend(self) -> type[BaseBleakClient]:
        return self.radio.client_backend

    @property
    def control_log(self) -> list[ControlExchange]:
        """Every control-point write the machine received, in order (see the module docstring)."""
        return self.treadmill.control_log

    def wire_log(self) -> list[WireRecord]:
        """The control log as the wire log's records: `t` (session s), `hex`, `op`, `result`,
        `belt_kmh`; the same dicts `--sim-wire-log` writes as JSON lines."""
        return [exchange.wire_record() for exchange in self.treadmill.control_log]


@asynccontextmanager
async def open_simulator(
    profile: str | Path | Profile = "generic",
    faults: Sequence[FaultSpec | str] = (),
    radio: VirtualRadio | None = None,
    name: str | None = None,
    address: str | None = None,
    wire_log: str | Path | None = None,
    hr_strap: bool = False,
) -> AsyncIterator[Simulator]:
    """Start a treadmill advertising on `radio` (or a new one), and with `hr_strap` a heart-rate
    strap beside it; ValueError for bad input, including a `wire_log` file that cannot be
    created (it is truncated when it exists)."""
    loaded = profile if isinstance(profile, Profile) else load_profile(profile)
    specs = [parse_fault(fault) if isinstance(fault, str) else fault for fault in faults]
    async with AsyncExitStack() as stack:
        log_file = None if wire_log is None else stack.enter_context(_open_wire_log(wire_log))
        if radio is None:
            radio = await stack.enter_async_context(VirtualRadio())
        device = await radio.add_peripheral(name or loaded.advertised_name, address)
        address_text = str(device.random_address).upper()
        radio.set_rssi(address_text, loaded.signal_dbm)
        treadmill = SimTreadmill(device, loaded, specs, wire_log=log_file)
        await treadmill.start()
        stack.push_async_callback(radio.remove_peripheral, address_text)
        stack.push_async_callback(_shut_down, treadmill)
        strap: SimStrap | None = None
        strap_address: str | None = None
        if hr_strap:
            strap = await _open_strap(stack, radio, loaded, treadmill)
            strap_address = str(strap.device.random_address).upper()
        yield Simulator(
            address=address_text,
            name=device.name,
            radio=radio,
            treadmill=treadmill,
            profile=loaded,
            strap=strap,
            strap_address=strap_address,
        )


async def _open_strap(
    stack: AsyncExitStack, radio: VirtualRadio, profile: Profile, treadmill: SimTreadmill
) -> SimStrap:
    """The strap reads the treadmill's walker (its `hr` fault included) and takes the strap
    faults the treadmill schedules on the session clock."""
    device = await radio.add_peripheral(profile.strap.advertised_name)
    address = str(device.random_address).upper()
    strap = SimStrap(device, profile.strap, lambda: treadmill.heart_rate_bpm)
    treadmill.reports_heart_rate = profile.strap.console_heart_rate
    treadmill.strap_fault_handlers.append(strap.inject)
    await strap.start()
    stack.push_async_callback(radio.remove_peripheral, address)
    stack.push_async_callback(_shut_down_strap, strap)
    return strap


async def _shut_down_strap(strap: SimStrap) -> None:
    await strap.close()
    device = strap.device
    for connection in list(device.connections.values()):
        await connection.disconnect()
    if device.is_advertising:
        await device.stop_advertising()


def _open_wire_log(path: str | Path) -> IO[str]:
    """Truncate or create the wire log, line-buffered (the treadmill also flushes per line)."""
    try:
        return open(path, "w", encoding="utf-8", buffering=1)
    except OSError as error:
        raise ValueError(f"wire log {str(path)!r}: {error.strerror or error}") from None


def read_wire_log(path: str | Path) -> list[WireRecord]:
    """The records of a wire log file, in the order the writes arrived. A last line without its
    newline (the process was killed mid-write) is left out; every complete line is kept."""
    *complete, _unterminated = Path(path).read_text(encoding="utf-8").split("\n")
    return [cast(WireRecord, json.loads(line)) for line in complete if line]


async def _shut_down(treadmill: SimTreadmill) -> None:
    """Stop serving and drop the links while the treadmill still knows it is closing.

    open_simulator then takes the device off the radio (a shared radio keeps running).
    """
    await treadmill.close()
    device = treadmill.device
    for connection in list(device.connections.values()):
        await connection.disconnect()
    if device.is_advertising:
        await device.stop_advertising()
