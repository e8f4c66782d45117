"""Bluetooth UUIDs of the Fitness Machine Service (and of a heart-rate strap), as bleak spells
them (full, lowercase)."""

from __future__ import annotations

_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def uuid16(short: int) -> str:
    """Expand a 16-bit SIG-assigned UUID to the 128-bit lowercase form bleak reports."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"a 16-bit UUID must lie in 0..0xffff, got {short:#x}")
    return f"0000{short:04x}{_BASE_SUFFIX}"


FTMS_SERVICE_UUID = uuid16(0x1826)
FEATURE_UUID = uuid16(0x2ACC)
TREADMILL_DATA_UUID = uuid16(0x2ACD)
TRAINING_STATUS_UUID = uuid16(0x2AD3)
SUPPORTED_SPEED_RANGE_UUID = uuid16(0x2AD4)
SUPPORTED_INCLINATION_RANGE_UUID = uuid16(0x2AD5)
CONTROL_POINT_UUID = uuid16(0x2AD9)
FITNESS_MACHINE_STATUS_UUID = uuid16(0x2ADA)

# The Heart Rate Service of a chest strap (read alongside the treadmill, not part of FTMS).
HEART_RATE_SERVICE_UUID = uuid16(0x180D)
HEART_RATE_MEASUREMENT_UUID = uuid16(0x2A37)
