"""`retrotread scan`'s listing: treadmills, then heart-rate straps in a section of their own, from a
real scan of the simulated radio (the command itself needs a Bluetooth adapter)."""

from __future__ import annotations

from retrotread.cli.scan_cmd import STRAPS_HEADING, scan_lines
from retrotread.treadmill.scan import FoundStrap, FoundTreadmill, scan_devices
from simulators.clock import run_virtual
from simulators.harness import open_simulator


def _scan_the_simulator(hr_strap: bool) -> tuple[list[str], str, str | None]:
    async def body() -> tuple[list[str], str, str | None]:
        async with open_simulator(hr_strap=hr_strap) as sim:
            treadmills, straps = await scan_devices(2.0, backend=sim.scanner_backend)
            return scan_lines(treadmills, straps), sim.address, sim.strap_address

    return run_virtual(body())


def test_the_simulated_strap_is_listed_after_the_treadmill_in_its_own_section() -> None:
    lines, treadmill, strap = _scan_the_simulator(hr_strap=True)
    assert strap is not None
    assert len(lines) == 4
    assert lines[0].startswith(f"{treadmill}  ")
    assert lines[0].endswith("treadmill")
    assert lines[1:3] == ["", STRAPS_HEADING]
    address, name = lines[3].split("  ", 1)
    assert address == strap
    assert name.split()[:2] == ["RetroTread", "HR"]
    assert "treadmill" not in lines[3]


def test_without_a_strap_only_the_treadmill_is_listed() -> None:
    lines, treadmill, _ = _scan_the_simulator(hr_strap=False)
    assert len(lines) == 1
    assert lines[0].startswith(f"{treadmill}  ")


def test_straps_found_without_a_treadmill_are_still_listed() -> None:
    straps = [FoundStrap("AA:BB:CC:DD:EE:01", "Polar H10 1234", -61), FoundStrap("X", None, None)]
    assert scan_lines([], straps) == [
        STRAPS_HEADING,
        "AA:BB:CC:DD:EE:01  Polar H10 1234            -61 dBm",
        "X  ?",
    ]


def test_a_treadmill_line_has_address_name_rssi_and_machine_types() -> None:
    found = [FoundTreadmill("AA:BB:CC:DD:EE:02", "KS-R1", -48, ["treadmill"])]
    assert scan_lines(found, []) == [
        "AA:BB:CC:DD:EE:02  KS-R1                     -48 dBm  treadmill"
    ]
