"""`retrotread decode KIND HEX`: one FTMS characteristic value as SPEC.md's JSON object, and the
strap's Heart Rate Measurement (0x2A37) the same way, for checking what a strap sends."""

from retrotread import ftms
from retrotread.errors import InputError
from retrotread.ftms.heart_rate import RR_PRESENT, decode_heart_rate_measurement

HEART_RATE_MEASUREMENT = "heart-rate-measurement"
KINDS = (*ftms.KINDS, HEART_RATE_MEASUREMENT)


def decode(kind: str, hex_text: str) -> dict[str, object]:
    """The JSON object for `hex_text` read as `kind`; InputError (exit 2) for an unknown kind,
    bad hex, or a packet that does not decode."""
    if kind not in KINDS:
        raise InputError(_unknown_kind(kind))
    try:
        data = ftms.parse_hex(hex_text)
        if kind == HEART_RATE_MEASUREMENT:
            return _heart_rate_measurement(data)
        return ftms.to_json_dict(kind, data)
    except (ftms.HexFormatError, ftms.FtmsDecodeError) as err:
        raise InputError(str(err)) from None


def _heart_rate_measurement(data: bytes) -> dict[str, object]:
    """`flags` (int), `heart_rate_bpm`, `sensor_contact` (`detected`, `not_detected`, or
    `unsupported` when the strap cannot tell); `energy_expended_kj` and `rr_intervals_s`
    (seconds, from 1/1024 s) only when the flags say they are there."""
    value = decode_heart_rate_measurement(data)
    out: dict[str, object] = {
        "flags": data[0],
        "heart_rate_bpm": value.heart_rate_bpm,
        "sensor_contact": value.contact.name,
    }
    if value.energy_expended_kj is not None:
        out["energy_expended_kj"] = value.energy_expended_kj
    if data[0] & RR_PRESENT:  # the flags say RR intervals follow, even when none do
        out["rr_intervals_s"] = list(value.rr_intervals_s)
    return out


def _unknown_kind(kind: str) -> str:
    import difflib  # only on this error path: decode stays fast

    close = difflib.get_close_matches(kind.lower(), KINDS, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown kind {kind!r}{hint}; valid kinds: {', '.join(KINDS)}"
