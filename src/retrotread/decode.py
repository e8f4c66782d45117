"""`retrotread decode KIND HEX`: one FTMS characteristic value as SPEC.md's JSON object."""

from retrotread import ftms
from retrotread.errors import InputError


def decode(kind: str, hex_text: str) -> dict[str, object]:
    """The JSON object for `hex_text` read as `kind`; InputError (exit 2) for an unknown kind,
    bad hex, or a packet that does not decode."""
    if kind not in ftms.KINDS:
        raise InputError(f"unknown kind {kind!r}; valid kinds: {', '.join(ftms.KINDS)}")
    try:
        return ftms.to_json_dict(kind, ftms.parse_hex(hex_text))
    except (ftms.HexFormatError, ftms.FtmsDecodeError) as err:
        raise InputError(str(err)) from None
