"""One call to stand up a simulated treadmill on a virtual radio, for tests and `run --sim`.

    async with open_simulator("coarse-grid", faults=["overspeed@300:1.5"]) as sim:
        async with BleakClient(sim.address, backend=sim.client_backend) as client: ...

Several simulators may share one radio (pass `radio=`); without one, the simulator brings its
own and closes it on exit. On exit the simulator's device leaves the radio, so its address is
unknown there afterwards (BleakDeviceNotFoundError) and free for a new simulator. Must run
inside a loop: the virtual clock of simulators.clock for tests and `--time-scale`, any loop
otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from simulators.faults import FaultSpec, parse_fault
from simulators.profiles import Profile, load_profile
from simulators.radio import VirtualRadio
from simulators.treadmill import SimTreadmill


@dataclass(frozen=True)
class Simulator:
    """A running simulated treadmill and the bleak backends that reach it."""

    address: str
    name: str
    radio: VirtualRadio
    treadmill: SimTreadmill
    profile: Profile

    @property
    def scanner_backend(self) -> type[BaseBleakScanner]:
        return self.radio.scanner_backend

    @property
    def client_backend(self) -> type[BaseBleakClient]:
        return self.radio.client_backend


@asynccontextmanager
async def open_simulator(
    profile: str | Path | Profile = "generic",
    faults: Sequence[FaultSpec | str] = (),
    radio: VirtualRadio | None = None,
    name: str | None = None,
    address: str | None = None,
) -> AsyncIterator[Simulator]:
    """Start a treadmill advertising on `radio` (or a new one); ValueError for bad input."""
    loaded = profile if isinstance(profile, Profile) else load_profile(profile)
    specs = [parse_fault(fault) if isinstance(fault, str) else fault for fault in faults]
    async with AsyncExitStack() as stack:
        if radio is None:
            radio = await stack.enter_async_context(VirtualRadio())
        device = await radio.add_peripheral(name or loaded.advertised_name, address)
        address_text = str(device.random_address).upper()
        radio.set_rssi(address_text, loaded.signal_dbm)
        treadmill = SimTreadmill(device, loaded, specs)
        await treadmill.start()
        stack.push_async_callback(radio.remove_peripheral, address_text)
        stack.push_async_callback(_shut_down, treadmill)
        yield Simulator(
            address=address_text,
            name=device.name,
            radio=radio,
            treadmill=treadmill,
            profile=loaded,
        )


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
