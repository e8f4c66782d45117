"""Device quirks the client works around, one flag per behaviour seen on real machines.

The names are shared with the simulator's profiles and the `[device] quirks` config list, so a
quirk can be reproduced in the simulator and switched on for a real machine by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from retrotread.errors import InputError


@dataclass(frozen=True)
class Quirks:
    request_control_rejected: bool = False  # Request Control fails, yet commands work
    ack_by_machine_status: bool = False  # commands answered by Machine Status, not an indication
    stale_stop_on_subscribe: bool = False  # a stale "stopped" status is replayed on subscribe
    start_before_speed: bool = False  # Set Target Speed ignored until the belt runs
    start_toggles_pause: bool = False  # Start/Resume while running pauses the belt
    speed_param_mph: bool = False  # the speed parameter is read as 0.01 mph, not 0.01 km/h
    min_speed_1kmh: bool = False  # the belt cannot run below 1.0 km/h, whatever the range says
    zero_packets: bool = False  # all-zero Treadmill Data at wake and sleep
    single_central: bool = False  # one central at a time

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Quirks:
        wanted = [n.strip().replace("-", "_") for n in names]
        unknown = sorted(set(wanted) - set(cls.names()))
        if unknown:
            known = ", ".join(cls.names())
            raise InputError(f"device.quirks: unknown quirk {', '.join(unknown)}; known: {known}")
        return cls(**dict.fromkeys(wanted, True))

    def merged(self, other: Quirks) -> Quirks:
        """Both sets of quirks switched on (config adds to the name table, never removes)."""
        on = {name: True for name in self.names() if getattr(other, name)}
        return replace(self, **on)

    def active(self) -> list[str]:
        return [name for name in self.names() if getattr(self, name)]


# Advertised-name prefixes of machines whose quirks are known (case-insensitive prefix match).
_NAME_TABLE: tuple[tuple[str, Quirks], ...] = (
    ("KS-", Quirks(zero_packets=True, single_central=True)),  # KingSmith WalkingPad family
    ("FS-", Quirks(zero_packets=True, start_before_speed=True)),  # FitShow-based consoles
)


def quirks_for_device_name(name: str | None) -> Quirks:
    """Quirks known for a device by its advertised name; none when it is not in the table."""
    if name:
        for prefix, quirks in _NAME_TABLE:
            if name.upper().startswith(prefix.upper()):
                return quirks
    return Quirks()
