"""`python -m simulators serve`: the simulated treadmill as a standalone peripheral.

With a Bluetooth controller, the very same FTMS peripheral the tests use runs on a real radio,
so phone apps, watches or `retrotread --device` on another machine can train against it::

    python -m simulators serve --transport usb:0                # first USB dongle
    python -m simulators serve --transport usb:0 --profile coarse-grid --fault hr@60:185
    python -m simulators serve --transport hci-socket:0         # a Linux HCI socket

`--transport` takes any Bumble transport name (`usb:0`, `usb:2fe3:000b`, `hci-socket:0`,
`serial:/dev/ttyUSB0`, `tcp-client:host:port`, ...; see Bumble's transport docs). A USB dongle
must not be claimed by the OS's Bluetooth stack at the same time (on Linux: stop bluetoothd or
unbind btusb, and give the user access to the USB device). This path cannot be tested in CI,
which has no radio.

Without `--transport` the treadmill runs on an in-process virtual radio: nothing outside this
process can reach it, so this only shows that the profile and faults load and the belt runs;
use `--transport` to make it visible. Status lines go to stderr; Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import Sequence

from bumble.device import Device
from bumble.hci import Address
from bumble.transport import open_transport

from simulators.faults import FAULT_KINDS, FaultSpec, parse_fault
from simulators.profiles import PROFILE_NAMES, Profile, load_profile
from simulators.radio import VirtualRadio
from simulators.treadmill import SimTreadmill

DEFAULT_ADDRESS = "F0:52:54:52:44:01"  # random static (two top bits set)
_ADDRESS_FORM = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
STATUS_INTERVAL_S = 5.0


class TransportUnavailableError(Exception):
    """The controller named by --transport cannot be opened or powered on."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulated FTMS treadmill")
    serve.add_argument(
        "--profile",
        default="generic",
        help=f"built-in profile ({', '.join(PROFILE_NAMES)}) or a TOML file",
    )
    serve.add_argument("--transport", help="Bumble transport of a real controller, e.g. usb:0")
    serve.add_argument("--name", help="advertised name (default: the profile's)")
    serve.add_argument("--address", default=DEFAULT_ADDRESS, help="random static address")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND@T[:ARG]",
        help=f"fault at session time T ({', '.join(FAULT_KINDS)}); repeatable",
    )
    return parser


async def _serve(
    profile: Profile,
    faults: Sequence[FaultSpec],
    transport: str | None,
    name: str | None,
    address: str,
) -> None:
    advertised = name or profile.advertised_name
    async with contextlib.AsyncExitStack() as stack:
        if transport is None:
            radio = await stack.enter_async_context(VirtualRadio())
            device = await radio.add_peripheral(advertised, address)
            print(
                "note: no --transport: serving on an in-process virtual radio only "
                "(nothing outside this process can connect)",
                file=sys.stderr,
            )
        else:
            try:
                hci = await stack.enter_async_context(await open_transport(transport))
                device = Device.with_hci(advertised, Address(address), hci.source, hci.sink)
                await device.power_on()
            except Exception as error:  # transports fail in many ways: USB, permissions, ...
                raise TransportUnavailableError(f"{type(error).__name__}: {error}") from error
        treadmill = SimTreadmill(device, profile, faults)
        await treadmill.start()
        stack.push_async_callback(treadmill.close)
        print(
            f"serving {profile.name!r} as {advertised!r} at {address}"
            f" on {transport or 'the virtual radio'}; Ctrl-C stops",
            file=sys.stderr,
        )
        await _report_until_stopped(treadmill)


async def _report_until_stopped(treadmill: SimTreadmill) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    last = ""
    while not stopped.is_set():
        line = (
            f"centrals={treadmill.connected_count} controlled={treadmill.controlled} "
            f"belt={treadmill.belt_speed_kmh:.2f} km/h target={treadmill.target_speed_kmh} "
            f"incline={treadmill.incline_pct:.1f} % distance={treadmill.distance_m:.0f} m"
        )
        if line != last:
            print(line, file=sys.stderr)
            last = line
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped.wait(), STATUS_INTERVAL_S)


def check_address(address: str) -> None:
    """A random static address, as the peripheral advertises with one: six hex bytes, the first
    with its two top bits set. ValueError with one line naming the flag and the form otherwise
    (Bumble's own parse error would surface as a traceback from inside the event loop)."""
    if not _ADDRESS_FORM.fullmatch(address) or int(address[:2], 16) < 0xC0:
        raise ValueError(
            f"--address {address!r}: expected a random static address, six hex bytes with the"
            f" first one C0 to FF, e.g. {DEFAULT_ADDRESS}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        profile = load_profile(args.profile)
        faults = [parse_fault(spec) for spec in args.fault]
        if args.name is not None and len(args.name.encode()) > 15:
            raise ValueError(f"name {args.name!r} is longer than 15 bytes (31-byte advertisement)")
        check_address(args.address)
    except ValueError as error:
        print(f"simulators: error: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(profile, faults, args.transport, args.name, args.address))
    except TransportUnavailableError as error:
        print(
            f"simulators: error: cannot open transport {args.transport!r}: {error}", file=sys.stderr
        )
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
