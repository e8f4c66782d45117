"""Feature, ranges, machine status, training status, advertisement data and UUIDs."""

from __future__ import annotations

import pytest

from retrotread.ftms import (
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsServiceData,
    InclineRange,
    MachineFeature,
    MachineStatus,
    MachineStatusOpCode,
    MachineType,
    SpeedRange,
    StopControl,
    TargetSetting,
    TrainingStatus,
    TrainingStatusCode,
    decode_feature,
    decode_incline_range,
    decode_machine_status,
    decode_service_data,
    decode_speed_range,
    decode_training_status,
    encode_feature,
    encode_incline_range,
    encode_service_data,
    encode_training_status,
    uuid16,
    uuids,
)


def test_uuids() -> None:
    assert uuid16(0x1826) == "00001826-0000-1000-8000-00805f9b34fb"
    assert uuids.FTMS_SERVICE_UUID == "00001826-0000-1000-8000-00805f9b34fb"
    assert [uuid16(n) for n in (0x2ACC, 0x2ACD, 0x2AD3, 0x2AD4, 0x2AD5, 0x2AD9, 0x2ADA)] == [
        uuids.FEATURE_UUID,
        uuids.TREADMILL_DATA_UUID,
        uuids.TRAINING_STATUS_UUID,
        uuids.SUPPORTED_SPEED_RANGE_UUID,
        uuids.SUPPORTED_INCLINATION_RANGE_UUID,
        uuids.CONTROL_POINT_UUID,
        uuids.FITNESS_MACHINE_STATUS_UUID,
    ]
    with pytest.raises(ValueError, match="16-bit"):
        uuid16(0x10000)


def test_speed_range_capture() -> None:
    value = decode_speed_range(bytes.fromhex("f4 01 b8 0b 32 00"))
    assert value == SpeedRange(minimum_kmh=5.0, maximum_kmh=30.0, increment_kmh=0.5)


def test_incline_range_is_signed() -> None:
    value = InclineRange(minimum_pct=-3.0, maximum_pct=15.0, increment_pct=0.5)
    assert encode_incline_range(value) == bytes.fromhex("e2ff 9600 0500")
    assert decode_incline_range(bytes.fromhex("e2ff 9600 0500")) == value


@pytest.mark.parametrize("hex_packet", ["f4 01 b8 0b 32", "f4 01 b8 0b 32 00 00"])
def test_range_length_must_be_exact(hex_packet: str) -> None:
    with pytest.raises(FtmsDecodeError):
        decode_speed_range(bytes.fromhex(hex_packet))


def test_feature_names_drop_supported() -> None:
    # A typical treadmill: distance, inclination, elevation, energy, HR, elapsed time, step count;
    # speed and inclination targets.
    features = (
        MachineFeature.total_distance
        | MachineFeature.inclination
        | MachineFeature.elevation_gain
        | MachineFeature.step_count
        | MachineFeature.expended_energy
        | MachineFeature.heart_rate_measurement
        | MachineFeature.elapsed_time
    )
    targets = (
        TargetSetting.speed_target
        | TargetSetting.inclination_target
        | TargetSetting.heart_rate_target
    )
    packet = encode_feature(FitnessMachineFeature(features, targets))
    assert packet == bytes.fromhex("5c160000 13000000")
    decoded = decode_feature(packet)
    assert decoded.feature_names() == [
        "total_distance",
        "inclination",
        "elevation_gain",
        "step_count",
        "expended_energy",
        "heart_rate_measurement",
        "elapsed_time",
    ]
    assert decoded.target_names() == ["speed_target", "inclination_target", "heart_rate_target"]


def test_feature_reserved_bits_survive_but_have_no_name() -> None:
    decoded = decode_feature(bytes.fromhex("00000080 00000080"))
    assert decoded.feature_names() == []
    assert decoded.target_names() == []
    assert encode_feature(decoded) == bytes.fromhex("00000080 00000080")


@pytest.mark.parametrize(
    ("hex_packet", "expected"),
    [
        ("01", MachineStatus(MachineStatusOpCode.reset)),
        (
            "02 01",
            MachineStatus(MachineStatusOpCode.stopped_or_paused_by_user, control=StopControl.stop),
        ),
        (
            "02 02",
            MachineStatus(MachineStatusOpCode.stopped_or_paused_by_user, control=StopControl.pause),
        ),
        ("03", MachineStatus(MachineStatusOpCode.stopped_by_safety_key)),
        ("04", MachineStatus(MachineStatusOpCode.started_or_resumed_by_user)),
        (
            "05 90 01",
            MachineStatus(MachineStatusOpCode.target_speed_changed, target_speed_kmh=4.0),
        ),
        (
            "06 14 00",
            MachineStatus(MachineStatusOpCode.target_incline_changed, target_inclination_pct=2.0),
        ),
        ("ff", MachineStatus(MachineStatusOpCode.control_permission_lost)),
    ],
)
def test_machine_status(hex_packet: str, expected: MachineStatus) -> None:
    assert decode_machine_status(bytes.fromhex(hex_packet)) == expected


@pytest.mark.parametrize(
    ("hex_packet", "offset"), [("", 0), ("00", 0), ("02", 1), ("02 03", 1), ("05 90", 1)]
)
def test_machine_status_errors(hex_packet: str, offset: int) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        decode_machine_status(bytes.fromhex(hex_packet))
    assert caught.value.offset == offset


def test_training_status() -> None:
    assert decode_training_status(bytes.fromhex("00 01")) == TrainingStatus(TrainingStatusCode.idle)
    with_string = TrainingStatus(TrainingStatusCode.manual_mode, "Quick start")
    packet = encode_training_status(with_string)
    assert packet == b"\x01\x0dQuick start"
    assert decode_training_status(packet) == with_string


def test_training_status_tolerates_bad_utf8_but_not_unknown_codes() -> None:
    assert decode_training_status(b"\x01\x01\xff").string == "\ufffd"
    with pytest.raises(FtmsDecodeError) as caught:
        decode_training_status(b"\x00\x10")
    assert caught.value.offset == 1
    with pytest.raises(FtmsDecodeError):
        decode_training_status(b"\x00\x01junk")  # no string flag, yet bytes follow


def test_advertised_treadmill() -> None:
    value = decode_service_data(bytes.fromhex("01 0100"))
    assert value == FtmsServiceData(available=True, machine_types=MachineType.treadmill)
    assert value.machine_type_names() == ["treadmill"]
    both = FtmsServiceData(False, MachineType.treadmill | MachineType.indoor_bike)
    assert encode_service_data(both) == bytes.fromhex("00 2100")
    with pytest.raises(FtmsDecodeError):
        decode_service_data(bytes.fromhex("01 01"))
