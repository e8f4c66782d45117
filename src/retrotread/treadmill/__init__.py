"""The FTMS treadmill client over bleak: scan, connect, listen, and the control point; and the
heart-rate strap read beside it."""

from retrotread.treadmill.client import DeviceInfo, Treadmill, find_device, is_address
from retrotread.treadmill.control_point import ControlPoint
from retrotread.treadmill.events import (
    Disconnected,
    MachineStatus,
    Telemetry,
    TrainingStatus,
    TreadmillEvent,
    TreadmillListener,
)
from retrotread.treadmill.quirks import Quirks, quirks_for_device_name
from retrotread.treadmill.scan import FoundTreadmill, scan_treadmills
from retrotread.treadmill.strap import HeartRateReading, HeartRateStrap, StrapBack, StrapLost

__all__ = [
    "ControlPoint",
    "DeviceInfo",
    "Disconnected",
    "FoundTreadmill",
    "HeartRateReading",
    "HeartRateStrap",
    "MachineStatus",
    "Quirks",
    "StrapBack",
    "StrapLost",
    "Telemetry",
    "TrainingStatus",
    "Treadmill",
    "TreadmillEvent",
    "TreadmillListener",
    "find_device",
    "is_address",
    "quirks_for_device_name",
    "scan_treadmills",
]
