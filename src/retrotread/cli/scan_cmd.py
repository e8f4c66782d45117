"""`retrotread scan [--timeout S]`: FTMS treadmills (and heart-rate straps) advertising nearby.

Treadmills first, one line each (address, name, RSSI, machine types), as SPEC.md lists them; then,
after a blank line, the heart-rate straps in a section of their own (address, name, RSSI), whose
address is what `--hr-device` takes. A script reading treadmills stops at the blank line.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from retrotread.cli.app import app
from retrotread.errors import ConnectError

if TYPE_CHECKING:
    from retrotread.treadmill.scan import FoundStrap, FoundTreadmill

STRAPS_HEADING = "heart-rate straps (for --hr-device):"


def _line(address: str, name: str | None, rssi: int | None, what: str) -> str:
    signal = "" if rssi is None else f"{rssi} dBm"
    return f"{address}  {name or '?':24} {signal:>8}  {what}".rstrip()


def scan_lines(treadmills: Sequence["FoundTreadmill"], straps: Sequence["FoundStrap"]) -> list[str]:
    """What `scan` prints on stdout for what one scan found."""
    lines = [_line(t.address, t.name, t.rssi, ", ".join(t.machine_types)) for t in treadmills]
    if straps:
        if lines:
            lines.append("")
        lines.append(STRAPS_HEADING)
        lines += [_line(s.address, s.name, s.rssi, "") for s in straps]
    return lines


@app.command()
def scan(
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to listen for advertisements.")
    ] = 5.0,
) -> None:
    """List FTMS treadmills nearby: address, name, RSSI, machine types; then heart-rate straps
    (for --hr-device).

    Exits 4 when there is no Bluetooth adapter or no treadmill advertised (straps found are
    listed all the same).
    """
    import asyncio

    from retrotread.treadmill.scan import scan_devices

    found, straps = asyncio.run(scan_devices(timeout))
    for line in scan_lines(found, straps):
        print(line)
    if not found:
        # SPEC: a command that needs Bluetooth and finds no treadmill exits 4 with one line.
        raise ConnectError(
            f"no FTMS treadmill advertised within {timeout:g} s; is it switched on and not"
            " connected to another app? (`retrotread run --sim` walks on the simulator)"
        )
