"""Treadmill Data: real captures, the SPEC examples and the facts that bite (DESIGN.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.ftms import (
    FtmsDecodeError,
    FtmsEncodeError,
    TreadmillData,
    decode_treadmill_data,
    encode_treadmill_data,
)

CAPTURE_4KMH = bytes.fromhex("84 04 90 01 01 00 00 00 00 ff ff ff 04 00")
CAPTURE_6KMH = bytes.fromhex("84 04 58 02 16 00 00 01 00 ff ff ff 17 00")


def test_capture_at_4_kmh() -> None:
    value = decode_treadmill_data(CAPTURE_4KMH)
    assert value.flags == 0x0484
    assert value.instantaneous_speed_kmh == 4.0
    assert value.total_distance_m == 1
    assert value.total_energy_kcal == 0
    assert value.energy_per_hour_kcal is None
    assert value.energy_per_minute_kcal is None
    assert value.not_available == {"energy_per_hour_kcal", "energy_per_minute_kcal"}
    assert value.elapsed_time_s == 4
    assert value.present_fields() == (
        "instantaneous_speed_kmh",
        "total_distance_m",
        "total_energy_kcal",
        "energy_per_hour_kcal",
        "energy_per_minute_kcal",
        "elapsed_time_s",
    )
    assert value.average_speed_kmh is None
    assert not value.is_present("average_speed_kmh")


def test_capture_at_6_kmh() -> None:
    value = decode_treadmill_data(CAPTURE_6KMH)
    assert value.instantaneous_speed_kmh == 6.0
    assert value.total_distance_m == 22
    assert value.total_energy_kcal == 1
    assert value.energy_per_hour_kcal is None
    assert value.energy_per_minute_kcal is None
    assert value.elapsed_time_s == 23


@pytest.mark.parametrize("capture", [CAPTURE_4KMH, CAPTURE_6KMH])
def test_captures_re_encode_to_the_same_bytes(capture: bytes) -> None:
    assert encode_treadmill_data(decode_treadmill_data(capture)) == capture


def test_bit_0_is_inverted() -> None:
    assert decode_treadmill_data(bytes.fromhex("0000 9001")).instantaneous_speed_kmh == 4.0
    more_data = decode_treadmill_data(bytes.fromhex("0100"))
    assert more_data.instantaneous_speed_kmh is None
    assert more_data.present_fields() == ()
    assert encode_treadmill_data(TreadmillData()) == bytes.fromhex("0100")


def test_one_byte_pace_is_tenths_of_km_per_min() -> None:
    # flags: more data (no speed) + instantaneous pace; one byte remains -> 1-byte form.
    value = decode_treadmill_data(bytes.fromhex("2100 0a"))
    assert value.instantaneous_pace == 1.0
    assert value.pace_width == 1


def test_two_byte_pace_is_plain_seconds() -> None:
    value = decode_treadmill_data(bytes.fromhex("2100 6801"))
    assert value.instantaneous_pace == 360
    assert value.pace_width == 2


def test_both_paces_share_the_width_told_by_length() -> None:
    one = decode_treadmill_data(bytes.fromhex("6100 0a 14"))
    assert (one.instantaneous_pace, one.average_pace, one.pace_width) == (1.0, 2.0, 1)
    two = decode_treadmill_data(bytes.fromhex("6100 0a00 1400"))
    assert (two.instantaneous_pace, two.average_pace, two.pace_width) == (10, 20, 2)


def test_pace_width_with_a_vendor_step_count() -> None:
    value = decode_treadmill_data(bytes.fromhex("2120 0a 102700"))
    assert value.pace_width == 1
    assert value.step_count == 10000


def test_pace_encodes_with_its_width() -> None:
    assert encode_treadmill_data(
        TreadmillData(instantaneous_pace=1.0, pace_width=1)
    ) == bytes.fromhex("2100 0a")
    assert encode_treadmill_data(TreadmillData(instantaneous_pace=360)) == bytes.fromhex(
        "2100 6801"
    )


def test_step_count_on_reserved_bit_13() -> None:
    value = decode_treadmill_data(bytes.fromhex("0020 9001 393000"))
    assert value.instantaneous_speed_kmh == 4.0
    assert value.step_count == 12345
    assert encode_treadmill_data(value) == bytes.fromhex("0020 9001 393000")


def test_bit_13_without_its_bytes_is_no_step_count() -> None:
    value = decode_treadmill_data(bytes.fromhex("0020 9001"))
    assert value.step_count is None
    assert not value.is_present("step_count")


@pytest.mark.parametrize(
    ("hex_packet", "field"),
    [
        ("0000 ffff", "instantaneous_speed_kmh"),
        ("0101 ff", "heart_rate_bpm"),
        ("0500 ffffff", "total_distance_m"),
        ("0900 ff7f 0a00", "inclination_pct"),
        ("0120 ffffff", "step_count"),
    ],
)
def test_sentinels_are_not_available(hex_packet: str, field: str) -> None:
    value = decode_treadmill_data(bytes.fromhex(hex_packet))
    assert getattr(value, field) is None
    assert field in value.not_available
    assert encode_treadmill_data(value) == bytes.fromhex(hex_packet)


def test_signed_fields() -> None:
    value = decode_treadmill_data(bytes.fromhex("0900 ecff f6ff"))
    assert value.inclination_pct == -2.0
    assert value.ramp_angle_deg == -1.0


def test_encode_rounds_rather_than_truncates() -> None:
    assert encode_treadmill_data(TreadmillData(instantaneous_speed_kmh=0.29)) == bytes.fromhex(
        "0000 1d00"
    )
    assert encode_treadmill_data(TreadmillData(instantaneous_speed_kmh=4.005)) == bytes.fromhex(
        "0000 9101"
    )


@given(raw=st.integers(0, 0xFFFE), noise=st.floats(-0.0049, 0.0049))
def test_encode_lands_on_the_nearest_step(raw: int, noise: float) -> None:
    packet = encode_treadmill_data(TreadmillData(instantaneous_speed_kmh=raw / 100 + noise))
    assert int.from_bytes(packet[2:4], "little") == raw


def test_partial_group_encodes_missing_members_as_not_available() -> None:
    packet = encode_treadmill_data(TreadmillData(inclination_pct=2.0))
    assert packet == bytes.fromhex("0900 1400 ff7f")
    decoded = decode_treadmill_data(packet)
    assert decoded.ramp_angle_deg is None
    assert decoded.not_available == {"ramp_angle_deg"}


@pytest.mark.parametrize(
    "value",
    [
        TreadmillData(instantaneous_speed_kmh=-0.01),
        TreadmillData(instantaneous_speed_kmh=655.36),
        TreadmillData(instantaneous_speed_kmh=655.35),  # the not-available code itself
        TreadmillData(instantaneous_speed_kmh=float("nan")),
        TreadmillData(heart_rate_bpm=300),
        TreadmillData(instantaneous_pace=1.0, pace_width=3),
    ],
)
def test_encode_refuses_what_the_field_cannot_carry(value: TreadmillData) -> None:
    with pytest.raises(FtmsEncodeError):
        encode_treadmill_data(value)


@pytest.mark.parametrize(
    ("hex_packet", "offset", "words"),
    [
        ("", 0, "flags"),
        ("84", 0, "flags"),
        ("8404 9001 0100", 4, "total_distance_m"),
        ("8404 9001 010000 0000 ff", 9, "energy_per_hour_kcal"),
        ("0000 9001 00", 4, "unexpected"),
        ("6100 0a 14 00", 4, "unexpected"),
    ],
)
def test_truncated_or_odd_packets_say_what_and_where(
    hex_packet: str, offset: int, words: str
) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        decode_treadmill_data(bytes.fromhex(hex_packet))
    assert caught.value.offset == offset
    assert words in str(caught.value)
    assert f"at byte {offset}" in str(caught.value)
