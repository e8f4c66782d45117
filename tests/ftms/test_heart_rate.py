"""Heart Rate Measurement (0x2A37): vectors, the round trip, and random bytes raising only ours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.ftms.errors import FtmsDecodeError, FtmsEncodeError
from retrotread.ftms.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    decode_heart_rate_measurement,
    encode_heart_rate_measurement,
    rr_units,
)

VECTORS = [
    # u8 value, contact not supported
    ("0048", HeartRateMeasurement(72)),
    # raw contact 1 also means "not supported"
    ("0248", HeartRateMeasurement(72)),
    # contact detected (bits 1-2 = 3), u8
    ("068c", HeartRateMeasurement(140, SensorContact.detected)),
    # no contact (bits 1-2 = 2)
    ("0400", HeartRateMeasurement(0, SensorContact.not_detected)),
    # u16 value
    ("010001", HeartRateMeasurement(256, wide=True)),
    # energy expended 0x0123 kJ
    ("0e5a2301", HeartRateMeasurement(90, SensorContact.detected, energy_expended_kj=0x123)),
    # two RR intervals: 1024 (1.0 s) and 512 (0.5 s)
    ("165000040002", HeartRateMeasurement(80, SensorContact.detected, rr_intervals=(1024, 512))),
    # everything: u16 value, energy, one RR interval
    ("1f6400e803cc03", HeartRateMeasurement(100, SensorContact.detected, 1000, (972,), True)),
]


@pytest.mark.parametrize(("hex_text", "expected"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vectors_decode(hex_text: str, expected: HeartRateMeasurement) -> None:
    assert decode_heart_rate_measurement(bytes.fromhex(hex_text)) == expected


def test_reserved_bits_are_ignored() -> None:
    assert decode_heart_rate_measurement(bytes.fromhex("e648")).heart_rate_bpm == 72


def test_rr_intervals_in_seconds() -> None:
    value = decode_heart_rate_measurement(bytes.fromhex("165000040002"))
    assert value.rr_intervals_s == (1.0, 0.5)
    assert rr_units(0.8) == 819  # 819.2 rounds down, 0.8005 s would round up
    with pytest.raises(FtmsEncodeError):
        rr_units(64.0)


@pytest.mark.parametrize(
    ("hex_text", "offset", "field"),
    [
        ("", 0, "flags"),
        ("00", 1, "heart rate"),
        ("0148", 1, "heart rate"),
        ("0848", 2, "energy expended"),
        ("105000", 2, "odd byte"),
        ("1050000400", 4, "odd byte"),
        ("00480c", 2, "unexpected"),
    ],
)
def test_bad_packets_name_the_byte(hex_text: str, offset: int, field: str) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        decode_heart_rate_measurement(bytes.fromhex(hex_text))
    assert caught.value.offset == offset
    assert field in str(caught.value)
    assert f"at byte {offset}" in str(caught.value)


def test_no_contact_and_zero_are_not_a_heart_rate() -> None:
    assert HeartRateMeasurement(140, SensorContact.not_detected).heart_rate is None
    assert HeartRateMeasurement(0, SensorContact.detected).heart_rate is None
    assert HeartRateMeasurement(140, SensorContact.unsupported).heart_rate == 140
    assert HeartRateMeasurement(140, SensorContact.detected).heart_rate == 140


measurements = st.builds(
    HeartRateMeasurement,
    heart_rate_bpm=st.integers(0, 0xFF),
    contact=st.sampled_from(SensorContact),
    energy_expended_kj=st.none() | st.integers(0, 0xFFFF),
    rr_intervals=st.lists(st.integers(0, 0xFFFF), max_size=8).map(tuple),
    wide=st.just(False),
) | st.builds(
    HeartRateMeasurement,
    heart_rate_bpm=st.integers(0, 0xFFFF),
    contact=st.sampled_from(SensorContact),
    energy_expended_kj=st.none() | st.integers(0, 0xFFFF),
    rr_intervals=st.lists(st.integers(0, 0xFFFF), max_size=8).map(tuple),
    wide=st.just(True),
)


@given(measurements)
def test_round_trip(value: HeartRateMeasurement) -> None:
    assert decode_heart_rate_measurement(encode_heart_rate_measurement(value)) == value


@given(st.binary(max_size=24))
def test_random_bytes_raise_only_our_error(data: bytes) -> None:
    error: FtmsDecodeError | None = None
    try:
        value = decode_heart_rate_measurement(data)
    except FtmsDecodeError as err:
        error = err
    if error is not None:
        assert 0 <= error.offset <= len(data)
        return
    # What decodes also encodes, and decodes again to the same reading.
    assert decode_heart_rate_measurement(encode_heart_rate_measurement(value)) == value
