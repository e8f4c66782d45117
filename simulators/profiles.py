"""Device profiles: which treadmill the simulator pretends to be, read from TOML.

Built-in profiles live in the repo's `configs/profiles/<name>.toml` (found relative to this
package; in an installed wheel the configs are shipped as `retrotread/_configs`, found through the
import system without importing any retrotread code). A path to any TOML file works too.

Quirks are the client's own `QuirkName`s (the `[device] quirks` of config), so a test can pair a
quirky machine with the workaround that handles it.
"""

from __future__ import annotations

import importlib.util
import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retrotread.events import QuirkName
from retrotread.units import KMH_PER_MPH


class ControlOp(StrEnum):
    """Control-point operations a profile may support (FTMS op code names)."""

    REQUEST_CONTROL = "request_control"
    RESET = "reset"
    SET_TARGET_SPEED = "set_target_speed"
    SET_TARGET_INCLINATION = "set_target_inclination"
    START_OR_RESUME = "start_or_resume"
    STOP_OR_PAUSE = "stop_or_pause"


class GridSnap(StrEnum):
    """How a machine's firmware puts a written speed onto its grid (SPEC "Units and limits").

    FTMS gives a Supported Speed Range (minimum, maximum, increment) but does not say where the
    grid starts, and real machines differ: some take the nearest multiple of the increment, some
    count the increment up from the minimum. On a range whose minimum is not a multiple of the
    increment (0.6 to 12 in 0.7 steps) the two grids differ.
    """

    MULTIPLE = "multiple"  # nearest k * increment
    FROM_MINIMUM = "from_minimum"  # nearest minimum + k * increment


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeedRange(_Section):
    """The Supported Speed Range, in the unit the machine reads its speed parameter in (km/h,
    or mph on a `speed_param_mph` machine), and how a written speed is snapped onto it."""

    min_kmh: float = Field(ge=0)
    max_kmh: float = Field(gt=0, le=655.35)
    increment_kmh: float = Field(gt=0)
    snap: GridSnap = GridSnap.MULTIPLE

    @model_validator(mode="after")
    def _ordered(self) -> SpeedRange:
        if self.min_kmh >= self.max_kmh:
            raise ValueError("min_kmh must be below max_kmh")
        return self


class InclineRange(_Section):
    min_pct: float = Field(ge=-327.68)
    max_pct: float = Field(le=327.67)
    increment_pct: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> InclineRange:
        if self.min_pct >= self.max_pct:
            raise ValueError("min_pct must be below max_pct")
        return self


class BeltSettings(_Section):
    accel_kmh_per_s: float = Field(default=1.5, gt=0)
    decel_kmh_per_s: float = Field(default=1.5, gt=0)
    stop_decel_kmh_per_s: float = Field(default=4.0, gt=0)
    command_lag_s: float = Field(default=0.3, ge=0)
    incline_rate_pct_per_s: float = Field(default=0.5, gt=0)


class ControlSettings(_Section):
    """How the control point answers.

    `one_procedure_at_a_time`: FTMS lets one control-point procedure run at a time; a write that
    arrives while an earlier one has not yet been answered (its indication not yet sent) is
    refused with ATT error 0xFE, "procedure already in progress", and not acted on. Off by default
    because the simulator answers within one loop pass, which hides the window anyway.
    `answer_delay_s`: how long the machine takes to answer a write (real machines take tens to
    hundreds of milliseconds); with the rule above it is the window in which a second write fails.
    """

    one_procedure_at_a_time: bool = False
    answer_delay_s: float = Field(default=0.0, ge=0, le=10)


class StrapSettings(_Section):
    """The simulated heart-rate strap (`--sim-hr-strap`).

    `single_central`: like most real straps, it serves one central at a time (a second is
    refused, and it stops advertising while connected). `console_heart_rate`: whether the
    treadmill's console also forwards a heart rate in Treadmill Data while the strap is served;
    off by default, because many consoles never do, which is why people pair a strap.
    """

    advertised_name: str = Field(default="RetroTread HR", min_length=1, max_length=20)
    single_central: bool = True
    interval_s: float = Field(default=1.0, gt=0)
    console_heart_rate: bool = False


class Profile(_Section):
    name: str
    description: str = ""
    advertised_name: str = Field(default="RetroTread SIM", min_length=1, max_length=15)
    speed: SpeedRange
    incline: InclineRange | None = None
    belt: BeltSettings = BeltSettings()
    control: ControlSettings = ControlSettings()
    data_interval_s: float = Field(default=1.0, gt=0)
    signal_dbm: int = Field(default=-50, le=0)
    drop_link_after_s: float | None = Field(default=None, gt=0)
    operations: frozenset[ControlOp] = frozenset(ControlOp)
    quirks: frozenset[QuirkName] = frozenset()
    strap: StrapSettings = StrapSettings()
    # Treadmill Data carries the walker's steps in reserved bit 13 (3 bytes), as KingSmith and
    # FitShow machines do: what the struggle governor needs.
    step_count: bool = False

    def supports(self, op: ControlOp) -> bool:
        """Whether the machine implements `op` (incline targets need an incline range)."""
        if op is ControlOp.SET_TARGET_INCLINATION and self.incline is None:
            return False
        return op in self.operations

    def has(self, quirk: QuirkName) -> bool:
        return quirk in self.quirks

    @property
    def belt_max_kmh(self) -> float:
        """The belt's real top speed in km/h: a `speed_param_mph` machine's range is in mph."""
        if self.has(QuirkName.speed_param_mph):
            return self.speed.max_kmh * KMH_PER_MPH
        return self.speed.max_kmh


def profiles_dir() -> Path:
    """The directory of the built-in profiles (repo checkout first, then the wheel's copy)."""
    candidates = [Path(__file__).resolve().parent.parent / "configs" / "profiles"]
    spec = importlib.util.find_spec("retrotread")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "_configs" / "profiles")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the simulator's profiles directory (configs/profiles) is missing")


def _builtin_names() -> tuple[str, ...]:
    try:
        return tuple(sorted(path.stem for path in profiles_dir().glob("*.toml")))
    except FileNotFoundError:
        return ()


PROFILE_NAMES: tuple[str, ...] = _builtin_names()


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or a TOML file by path; ValueError says what is wrong."""
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in PROFILE_NAMES:
        path = profiles_dir() / f"{name_or_path}.toml"
    elif not (path.suffix == ".toml" or path.is_file()):
        raise ValueError(
            f"unknown simulator profile {str(name_or_path)!r}; "
            f"built in: {', '.join(PROFILE_NAMES)} (or a path to a .toml file)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"simulator profile {str(path)!r}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"simulator profile {str(path)!r}: {error}") from None
    data.setdefault("name", path.stem)
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "profile"
        raise ValueError(f"simulator profile {str(path)!r}: {field}: {first['msg']}") from None
