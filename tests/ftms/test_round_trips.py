"""Every encoder/decoder pair inverts the other on values that lie on the wire grid."""

from __future__ import annotations

import dataclasses

from hypothesis import given

from retrotread import ftms
from tests.support import ftms_strategies as gen


@given(gen.treadmill_data())
def test_treadmill_data_round_trip(value: ftms.TreadmillData) -> None:
    encoded = ftms.encode_treadmill_data(value)
    decoded = ftms.decode_treadmill_data(encoded)
    assert decoded == dataclasses.replace(value, flags=ftms.treadmill_data_flags(value))
    assert ftms.encode_treadmill_data(decoded) == encoded


@given(gen.feature)
def test_feature_round_trip(value: ftms.FitnessMachineFeature) -> None:
    assert ftms.decode_feature(ftms.encode_feature(value)) == value


@given(gen.speed_range)
def test_speed_range_round_trip(value: ftms.SpeedRange) -> None:
    assert ftms.decode_speed_range(ftms.encode_speed_range(value)) == value


@given(gen.incline_range)
def test_incline_range_round_trip(value: ftms.InclineRange) -> None:
    assert ftms.decode_incline_range(ftms.encode_incline_range(value)) == value


@given(gen.control_point_request)
def test_control_point_request_round_trip(value: ftms.ControlPointRequest) -> None:
    encoded = ftms.encode_request(value)
    assert ftms.decode_request(encoded) == value
    assert ftms.decode_control_point(encoded) == value


@given(gen.control_point_response)
def test_control_point_response_round_trip(value: ftms.ControlPointResponse) -> None:
    encoded = ftms.encode_response(value)
    assert ftms.decode_response(encoded) == value
    assert ftms.decode_control_point(encoded) == value


@given(gen.machine_status)
def test_machine_status_round_trip(value: ftms.MachineStatus) -> None:
    assert ftms.decode_machine_status(ftms.encode_machine_status(value)) == value


@given(gen.training_status)
def test_training_status_round_trip(value: ftms.TrainingStatus) -> None:
    assert ftms.decode_training_status(ftms.encode_training_status(value)) == value


@given(gen.service_data)
def test_service_data_round_trip(value: ftms.FtmsServiceData) -> None:
    assert ftms.decode_service_data(ftms.encode_service_data(value)) == value
