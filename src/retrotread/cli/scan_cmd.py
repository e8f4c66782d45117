"""`retrotread scan [--timeout S]`: FTMS treadmills (and heart-rate straps) advertising nearby."""

from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.errors import ConnectError


@app.command()
def scan(
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to listen for advertisements.")
    ] = 5.0,
) -> None:
    """List FTMS treadmills nearby: address, name, RSSI, machine types; then heart-rate straps
    (for --hr-device).

    Exits 4 when there is no Bluetooth adapter or no treadmill advertised.
    """
    import asyncio

    from retrotread.treadmill.scan import scan_devices

    found, straps = asyncio.run(scan_devices(timeout))
    if not found:
        # SPEC: a command that needs Bluetooth and finds no treadmill exits 4 with one line.
        raise ConnectError(
            f"no FTMS treadmill advertised within {timeout:g} s; is it switched on and not"
            " connected to another app? (`retrotread run --sim` walks on the simulator)"
        )
    for item in found:
        rssi = "" if item.rssi is None else f"{item.rssi} dBm"
        print(f"{item.address}  {item.name or '?':24} {rssi:>8}  {', '.join(item.machine_types)}")
    for strap in straps:
        rssi = "" if strap.rssi is None else f"{strap.rssi} dBm"
        print(f"{strap.address}  {strap.name or '?':24} {rssi:>8}  heart-rate strap")
