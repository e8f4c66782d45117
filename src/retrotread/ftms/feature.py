"""Fitness Machine Feature (0x2ACC): what the machine measures and which targets it accepts.

Two little-endian u32 words. Reserved bits are kept in the flags (so a value round-trips) but
have no name in `feature_names()` / `target_names()`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer

WHAT: Final = "feature"


class MachineFeature(enum.IntFlag):
    """Fitness Machine Features field; names are the spec's with "supported" dropped."""

    average_speed = 1 << 0
    cadence = 1 << 1
    total_distance = 1 << 2
    inclination = 1 << 3
    elevation_gain = 1 << 4
    pace = 1 << 5
    step_count = 1 << 6
    resistance_level = 1 << 7
    stride_count = 1 << 8
    expended_energy = 1 << 9
    heart_rate_measurement = 1 << 10
    metabolic_equivalent = 1 << 11
    elapsed_time = 1 << 12
    remaining_time = 1 << 13
    power_measurement = 1 << 14
    force_on_belt_and_power_output = 1 << 15
    user_data_retention = 1 << 16


class TargetSetting(enum.IntFlag):
    """Target Setting Features field; names are the spec's with "supported" dropped."""

    speed_target = 1 << 0
    inclination_target = 1 << 1
    resistance_target = 1 << 2
    power_target = 1 << 3
    heart_rate_target = 1 << 4
    targeted_expended_energy_configuration = 1 << 5
    targeted_step_number_configuration = 1 << 6
    targeted_stride_number_configuration = 1 << 7
    targeted_distance_configuration = 1 << 8
    targeted_training_time_configuration = 1 << 9
    targeted_time_in_two_heart_rate_zones_configuration = 1 << 10
    targeted_time_in_three_heart_rate_zones_configuration = 1 << 11
    targeted_time_in_five_heart_rate_zones_configuration = 1 << 12
    indoor_bike_simulation_parameters = 1 << 13
    wheel_circumference_configuration = 1 << 14
    spin_down_control = 1 << 15
    targeted_cadence_configuration = 1 << 16


def _names(flags: enum.IntFlag, members: type[enum.IntFlag]) -> list[str]:
    return [m.name for m in members if m.name is not None and m in flags]


@dataclass(frozen=True)
class FitnessMachineFeature:
    features: MachineFeature
    targets: TargetSetting

    def feature_names(self) -> list[str]:
        return _names(self.features, MachineFeature)

    def target_names(self) -> list[str]:
        return _names(self.targets, TargetSetting)


def decode_feature(data: bytes) -> FitnessMachineFeature:
    reader = Reader(WHAT, data)
    features = MachineFeature(reader.unsigned(4, "fitness machine features"))
    targets = TargetSetting(reader.unsigned(4, "target setting features"))
    reader.expect_end()
    return FitnessMachineFeature(features, targets)


def encode_feature(value: FitnessMachineFeature) -> bytes:
    writer = Writer(WHAT)
    writer.unsigned(int(value.features), 4, "features")
    writer.unsigned(int(value.targets), 4, "targets")
    return writer.getvalue()
