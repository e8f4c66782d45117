"""`retrotread decode KIND HEX`: one FTMS characteristic value (or a Heart Rate Measurement) as
JSON (SPEC.md, "decode")."""

from typing import Annotated

import typer

from retrotread.cli.app import QuietCommand, app


@app.command(cls=QuietCommand)
def decode(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            help="Which characteristic (the kinds are listed above).",
        ),
    ],
    hex_value: Annotated[
        list[str] | None,
        typer.Argument(metavar="HEX", help='Bytes in hex: "84 04 90 01", 84:04:90:01 or 84049001.'),
    ] = None,
) -> None:
    """Decode one FTMS characteristic value (or a strap's heart-rate measurement) as JSON.

    \b
    KIND: treadmill-data, control-point, machine-status, training-status,
          feature, speed-range, incline-range, heart-rate-measurement.

    Fields the packet's flags leave out are absent; "not available" values are null.
    Bad or truncated input exits 2.
    """
    import json

    from retrotread.decode import decode as decode_value

    typer.echo(json.dumps(decode_value(kind, " ".join(hex_value or []))))
