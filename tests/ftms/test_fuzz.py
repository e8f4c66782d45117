"""Arbitrary bytes never make a decoder raise anything but FtmsDecodeError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread import ftms

DECODERS: list[Callable[[bytes], Any]] = [
    ftms.decode_treadmill_data,
    ftms.decode_feature,
    ftms.decode_speed_range,
    ftms.decode_incline_range,
    ftms.decode_request,
    ftms.decode_response,
    ftms.decode_control_point,
    ftms.decode_machine_status,
    ftms.decode_training_status,
    ftms.decode_service_data,
]


def _decodes_or_says_where(decoder: Callable[[bytes], Any], data: bytes) -> None:
    error: ftms.FtmsDecodeError | None = None
    try:
        decoder(data)
    except ftms.FtmsDecodeError as err:
        error = err
    if error is not None:
        assert 0 <= error.offset <= len(data)
        assert f"at byte {error.offset}" in str(error)


@pytest.mark.parametrize("decoder", DECODERS, ids=lambda d: d.__name__)
@given(data=st.binary(max_size=40))
def test_random_bytes_raise_only_our_error(decoder: Callable[[bytes], Any], data: bytes) -> None:
    _decodes_or_says_where(decoder, data)


@given(flags=st.integers(0, 0xFFFF), tail=st.binary(max_size=40))
def test_treadmill_data_with_any_flags_raises_only_our_error(flags: int, tail: bytes) -> None:
    # Random bytes rarely hit a consistent flags/length pair; this walks every flag combination.
    _decodes_or_says_where(ftms.decode_treadmill_data, flags.to_bytes(2, "little") + tail)


@pytest.mark.parametrize("kind", ftms.KINDS)
@given(data=st.binary(max_size=30))
def test_json_view_of_random_bytes(kind: str, data: bytes) -> None:
    try:
        decoded = ftms.to_json_dict(kind, data)
    except ftms.FtmsDecodeError:
        return
    json.dumps(decoded, allow_nan=False)


@pytest.mark.parametrize("decoder", DECODERS, ids=lambda d: d.__name__)
def test_decoders_accept_bytearray_as_bleak_delivers_it(decoder: Callable[[bytes], Any]) -> None:
    samples = {
        "decode_treadmill_data": "84 04 90 01 01 00 00 00 00 ff ff ff 04 00",
        "decode_feature": "0c000000 03000000",
        "decode_speed_range": "f4 01 b8 0b 32 00",
        "decode_incline_range": "0000 9600 0500",
        "decode_request": "02 64 00",
        "decode_response": "80 02 01",
        "decode_control_point": "80 02 01",
        "decode_machine_status": "05 90 01",
        "decode_training_status": "00 01",
        "decode_service_data": "01 0100",
    }
    data = bytes.fromhex(samples[decoder.__name__])
    assert decoder(bytearray(data)) == decoder(data)
