"""A treadmill whose Supported Speed or Inclination Range makes no sense: refused, exit 4, one line.

The codec refuses reversed bounds and a zero increment, and the treadmill
client turns that decode error into a ConnectError. A simulator profile cannot say such a thing
(its model validates the bounds), so the simulated peripheral is started with a sane profile and
the bytes its GATT server serves for the range are replaced before we connect: everything from the
read on is the real path (bleak over the virtual radio, our client, our codec).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bumble.core import UUID

from retrotread.errors import ConnectError
from retrotread.ftms import FTMS_SERVICE_UUID, SUPPORTED_INCLINATION_RANGE_UUID
from retrotread.info import read_device_info
from retrotread.run import RunOptions, run_to_result
from retrotread.treadmill.client import Treadmill
from simulators.clock import run_virtual
from simulators.harness import Simulator, open_simulator


def _serve_range(sim: Simulator, packet: bytes, *, incline: bool) -> None:
    """Make the peripheral's GATT server answer reads of the range with `packet`."""
    if not incline:
        sim.treadmill.speed_range_char.value = packet
        return
    found = sim.treadmill.device.gatt_server.get_characteristic_attributes(
        UUID(FTMS_SERVICE_UUID), UUID(SUPPORTED_INCLINATION_RANGE_UUID)
    )
    assert found is not None, "the generic profile serves an inclination range"
    found[1].value = packet


async def _refusal(packet: bytes, *, incline: bool = False, via_info: bool = True) -> ConnectError:
    async with open_simulator("generic") as sim:
        _serve_range(sim, packet, incline=incline)
        with pytest.raises(ConnectError) as caught:
            await _connect(sim, via_info=via_info)
    return caught.value


async def _connect(sim: Simulator, *, via_info: bool) -> None:
    if via_info:  # `retrotread info`
        await read_device_info(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
    else:  # what `run` does before anything takes control
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        await treadmill.disconnect()


def _assert_one_line_exit_4(err: ConnectError, words: str) -> None:
    assert err.exit_code == 4
    text = str(err)
    assert len(text.splitlines()) == 1  # the CLI prints it as its one error line
    assert words in text


@pytest.mark.parametrize("via_info", [True, False], ids=["info", "connect"])
def test_reversed_speed_bounds_are_refused(via_info: bool) -> None:
    err = run_virtual(_refusal(bytes.fromhex("d0 07 32 00 01 00"), via_info=via_info))
    _assert_one_line_exit_4(err, "minimum speed 20 km/h lies above the maximum 0.5 km/h")


def test_a_zero_speed_increment_is_refused() -> None:
    err = run_virtual(_refusal(bytes.fromhex("32 00 d0 07 00 00")))
    _assert_one_line_exit_4(err, "increment is 0")


def test_reversed_incline_bounds_are_refused() -> None:
    err = run_virtual(_refusal(bytes.fromhex("96 00 00 00 05 00"), incline=True))
    _assert_one_line_exit_4(err, "minimum inclination 15 % lies above the maximum 0 %")


def test_the_same_simulator_with_its_own_range_connects() -> None:
    async def body() -> tuple[float, float, float]:
        async with open_simulator("generic") as sim:
            info = await read_device_info(
                sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
            )
            return info.speed_range_kmh

    assert run_virtual(body()) == (0.5, 20.0, 0.01)


def test_run_refuses_the_device_before_anything_is_written(tmp_path: Path) -> None:
    """The whole `run` path (prepare, connect, read the ranges): exit 4 and one line, and not one
    control-point write reached the machine (the belt never started)."""
    machines: list[Simulator] = []

    def serve_reversed_bounds(sim: Simulator) -> None:  # called before the session connects
        machines.append(sim)
        _serve_range(sim, bytes.fromhex("d0 07 32 00 01 00"), incline=False)

    options = RunOptions(
        sim=True, data_dir=tmp_path, control_socket=False, on_simulator=serve_reversed_bounds
    )
    with pytest.raises(ConnectError) as caught:
        run_to_result(options)
    _assert_one_line_exit_4(caught.value, "lies above the maximum")
    (machine,) = machines
    assert not machine.treadmill.control_log  # no Request Control, no Start: nothing moved
