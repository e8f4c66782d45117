"""`retrotread scan [--timeout S]`: FTMS treadmills advertising nearby."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from retrotread.cli.app import app


@app.command()
def scan(
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to listen for advertisements.")
    ] = 5.0,
) -> None:
    """List FTMS treadmills nearby: address, name, RSSI, machine types."""
    from retrotread.treadmill.scan import scan_treadmills

    found = asyncio.run(scan_treadmills(timeout))
    if not found:
        print(f"no FTMS treadmill advertised within {timeout:g} s")
        return
    for item in found:
        rssi = "" if item.rssi is None else f"{item.rssi} dBm"
        print(f"{item.address}  {item.name or '?':24} {rssi:>8}  {', '.join(item.machine_types)}")
