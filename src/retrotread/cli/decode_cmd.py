"""`retrotread decode KIND HEX` (placeholder until the codec lands)."""

from __future__ import annotations

from retrotread.cli.app import app


@app.command()
def decode(kind: str, hex_value: str) -> None:
    """Decode one FTMS characteristic value and print it as JSON."""
    raise NotImplementedError
