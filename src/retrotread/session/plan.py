"""Plans: what a session should do, segment by segment, as a TOML or JSON file.

The model refuses anything outside the hard limits at input (SPEC.md: a request above 3.0 mph
backward is refused, not clamped). `Plan.check_against` then fits a valid plan into the user's own,
narrower limits (config and `--max-speed`) and fills in the safety defaults the engine needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from retrotread import inputs
from retrotread.config import SafetyConfig, TurnaroundMode, band_too_narrow, lowest_ceiling_mph
from retrotread.errors import InputError
from retrotread.events import Direction
from retrotread.units import (
    DEFAULT_FORWARD_MAX_MPH,
    HARD_CEILING_MPH,
    HARD_FLOOR_MPH,
    MIN_BAND_WIDTH_MPH,
)
from retrotread.validation import field_error, format_number, in_range, one_line

HARD_LIMITS_MPH: dict[Direction, tuple[float, float]] = {
    Direction.backward: (HARD_FLOOR_MPH, HARD_CEILING_MPH),
    Direction.forward: (HARD_FLOOR_MPH, DEFAULT_FORWARD_MAX_MPH),
}

MAX_SEGMENTS = 500

_FORMATS: dict[str, inputs.Format] = {".toml": "toml", ".json": "json"}

Mph = Annotated[float, AllowInfNan(False)]
Bpm = Annotated[int, in_range(40, 220, "bpm")]


class Segment(BaseModel):
    """One stretch at one direction: a fixed target, or a range the pacer may move within."""

    # strict: `target_mph = true` is not 1.0 mph, `name = 3` is not a name.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, Field(min_length=1, max_length=60)]
    # Not strict: a file spells the direction as text, never as the enum.
    direction: Annotated[Direction, Field(strict=False)] = Direction.backward
    duration_s: Annotated[float, in_range(1, 7200, "s")]
    target_mph: Mph | None = None
    min_mph: Mph | None = None
    max_mph: Mph | None = None
    incline_pct: Annotated[float, in_range(0.0, 15.0, "%")] | None = None
    hr_min_bpm: Bpm | None = None
    hr_max_bpm: Bpm | None = None
    ramp_step_mph: Annotated[float, in_range(0, 0.5, "mph", lo_open=True)] | None = None

    @model_validator(mode="after")
    def _check_speeds(self) -> Segment:
        has_range = self.min_mph is not None or self.max_mph is not None
        if self.target_mph is None and not has_range:
            raise field_error("target_mph", None, "give target_mph, or min_mph and max_mph")
        if self.target_mph is not None and has_range:
            raise field_error(
                "target_mph", self.target_mph, "give target_mph or min_mph/max_mph, not both"
            )
        if has_range and (self.min_mph is None or self.max_mph is None):
            missing = "min_mph" if self.min_mph is None else "max_mph"
            raise field_error(missing, None, "a speed range needs both min_mph and max_mph")
        lo, hi = HARD_LIMITS_MPH[self.direction]
        for field in ("target_mph", "min_mph", "max_mph"):
            value = getattr(self, field)
            if value is not None and not lo <= value <= hi:
                raise field_error(
                    field,
                    value,
                    f"{self.direction.value} speed must be within {lo!r}..{hi!r} mph",
                )
        if self.min_mph is not None and self.max_mph is not None and self.min_mph > self.max_mph:
            raise field_error("min_mph", self.min_mph, f"must be <= max_mph ({self.max_mph!r})")
        if (self.hr_min_bpm is None) != (self.hr_max_bpm is None):
            missing = "hr_min_bpm" if self.hr_min_bpm is None else "hr_max_bpm"
            raise field_error(
                missing, None, "a heart-rate zone needs both hr_min_bpm and hr_max_bpm"
            )
        if (
            self.hr_min_bpm is not None
            and self.hr_max_bpm is not None
            and self.hr_min_bpm >= self.hr_max_bpm
        ):
            raise field_error(
                "hr_min_bpm", self.hr_min_bpm, f"must be < hr_max_bpm ({self.hr_max_bpm})"
            )
        return self

    @property
    def start_mph(self) -> float:
        """Where the segment begins: its target, or the low end of its range."""
        speed = self.target_mph if self.target_mph is not None else self.min_mph
        assert speed is not None  # guaranteed by _check_speeds
        return speed

    @property
    def ceiling_mph(self) -> float:
        """The fastest the segment may go: its target, or the top of its range."""
        speed = self.target_mph if self.target_mph is not None else self.max_mph
        assert speed is not None  # guaranteed by _check_speeds
        return speed

    @property
    def has_hr_zone(self) -> bool:
        return self.hr_min_bpm is not None and self.hr_max_bpm is not None

    def _fitted(self, floor: float, ceiling: float, ramp_step_mph: float) -> Segment:
        def fit(value: float | None) -> float | None:
            return None if value is None else min(ceiling, max(floor, value))

        return self.model_copy(
            update={
                "target_mph": fit(self.target_mph),
                "min_mph": fit(self.min_mph),
                "max_mph": fit(self.max_mph),
                "ramp_step_mph": ramp_step_mph,
            }
        )


class Plan(BaseModel):
    """A named sequence of segments; the built-in programs are plans too."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, Field(min_length=1, max_length=80)]
    title: str = ""
    description: str = ""
    # Why this plan was suggested (`retrotread coach`, SPEC.md: "`reason` in JSON"): one line for
    # people, never acted on. A known field, so `coach --json > p.json; run --plan p.json` works
    # without the model ignoring unknown keys.
    reason: Annotated[str, Field(max_length=500)] | None = None
    turnaround_mode: TurnaroundMode | None = None
    turnaround_hold_s: Annotated[float, in_range(2.0, 60.0, "s")] | None = None
    segments: Annotated[tuple[Segment, ...], Field(strict=False)]  # files have lists, not tuples

    @field_validator("segments")
    @classmethod
    def _check_count(cls, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        # Checked after the items (pydantic's length limit would also fire when an item is bad).
        if not 1 <= len(segments) <= MAX_SEGMENTS:
            raise ValueError(f"a plan needs 1..{MAX_SEGMENTS} segments, not {len(segments)}")
        return segments

    def total_duration_s(self) -> float:
        """Sum of the segments; turn-arounds and ramps at the start come on top."""
        return sum(segment.duration_s for segment in self.segments)

    def speed_span_mph(
        self, direction: Direction = Direction.backward
    ) -> tuple[float, float] | None:
        """Lowest start and highest ceiling of the `direction` segments; None if there are none."""
        chosen = [s for s in self.segments if s.direction is direction]
        if not chosen:
            return None
        return min(s.start_mph for s in chosen), max(s.ceiling_mph for s in chosen)

    def has_forward(self) -> bool:
        """Whether any segment walks forward (then the forward ceiling matters)."""
        return any(s.direction is Direction.forward for s in self.segments)

    def direction_changes(self) -> int:
        """How many turn-arounds the plan needs between its segments."""
        pairs = zip(self.segments, self.segments[1:], strict=False)
        return sum(1 for a, b in pairs if a.direction is not b.direction)

    def check_against(
        self,
        safety: SafetyConfig,
        max_speed_mph: float | None = None,
        *,
        heart_rate_limit_name: str = "safety.max_heart_rate_bpm",
    ) -> Plan:
        """Fit the plan into the user's limits and fill in the safety defaults; InputError if not.

        Targets above the user's ceiling (safety.max_backward_mph / forward_max_mph, and
        `--max-speed` for both directions) are lowered to it, and backward targets below
        safety.min_backward_mph are raised to it: the user asked for that narrower band. Nothing
        outside the hard band gets here; the model refused it. Likewise a segment's ramp step is
        at most safety.max_step_mph. A heart-rate zone above safety.max_heart_rate_bpm is refused:
        the pacer would chase a rate the supervisor stops for. `heart_rate_limit_name` is the
        setting that limit came from (it may be derived from [user]), for the error line.
        """
        max_speed_mph = validate_max_speed(max_speed_mph)
        user_cap = max_speed_mph if max_speed_mph is not None else DEFAULT_FORWARD_MAX_MPH
        limits = {
            Direction.backward: (
                safety.min_backward_mph,
                min(safety.max_backward_mph, user_cap),
            ),
            Direction.forward: (HARD_FLOOR_MPH, min(safety.forward_max_mph, user_cap)),
        }
        # SPEC.md: the band stays at least 0.1 mph wide. `Settings.check_speed_caps` says the
        # same with each value's source; this guards callers that build a SafetyConfig directly.
        floor = safety.min_backward_mph
        if band_too_narrow(floor, limits[Direction.backward][1]):
            if max_speed_mph is not None and max_speed_mph < safety.max_backward_mph:
                raise _band_too_narrow("--max-speed", max_speed_mph, floor)
            raise _band_too_narrow("safety.max_backward_mph", safety.max_backward_mph, floor)
        # Once the backward band holds, only a low forward_max_mph can squeeze the forward one,
        # and only a plan that walks forward cares.
        if self.has_forward() and band_too_narrow(floor, limits[Direction.forward][1]):
            raise _band_too_narrow("safety.forward_max_mph", safety.forward_max_mph, floor)
        segments: list[Segment] = []
        for index, segment in enumerate(self.segments):
            where = f"plan {self.name}: segments[{index}]"
            step = min(segment.ramp_step_mph or safety.max_step_mph, safety.max_step_mph)
            limit = safety.max_heart_rate_bpm
            if limit is not None and segment.hr_max_bpm is not None and segment.hr_max_bpm > limit:
                raise InputError(
                    f"{where}.hr_max_bpm = {segment.hr_max_bpm}: must be <= "
                    f"{heart_rate_limit_name} ({limit} bpm)"
                )
            floor, ceiling = limits[segment.direction]
            segments.append(segment._fitted(floor, ceiling, step))
        return self.model_copy(
            update={
                "segments": tuple(segments),
                "turnaround_mode": self.turnaround_mode or safety.turnaround_mode,
                "turnaround_hold_s": max(self.turnaround_hold_s or 0.0, safety.turnaround_hold_s),
            }
        )


def _band_too_narrow(what: str, ceiling: float, floor: float) -> InputError:
    return InputError(
        f"{what} = {format_number(ceiling)}: must be >= {format_number(lowest_ceiling_mph(floor))}"
        f" mph, at least {format_number(MIN_BAND_WIDTH_MPH)} mph above safety.min_backward_mph "
        f"({format_number(floor)} mph)"
    )


def validate_max_speed(mph: float | None) -> float | None:
    """`--max-speed` may only lower the ceiling: refuse anything outside the band (exit 2)."""
    if mph is not None and not HARD_FLOOR_MPH <= mph <= HARD_CEILING_MPH:
        raise InputError(
            f"--max-speed = {mph!r}: must be within {HARD_FLOOR_MPH!r}..{HARD_CEILING_MPH!r} mph "
            "(may lower the ceiling, never raise it)"
        )
    return mph


def parse_plan(data: Mapping[str, Any], source: str, default_name: str) -> Plan:
    """Validate plan data already read from a file; errors name the field, value and range."""
    fields = dict(data)
    fields.setdefault("name", default_name)
    try:
        return Plan.model_validate(fields)
    except ValidationError as err:
        raise InputError(one_line(err, source, model=Plan)) from None


def load_plan(path: Path) -> Plan:
    """Read a plan from TOML or JSON (by suffix, else whichever parses); InputError on failure.

    The file must be a regular file of at most 1 MiB (`--plan /dev/zero` or a FIFO is refused at
    once, not read forever), UTF-8, and not nested absurdly deep (see `retrotread.inputs`)."""
    source = f"plan {path}"
    text = inputs.read_text(path, source)
    fmt = _FORMATS.get(path.suffix.lower(), "toml-or-json")
    return parse_plan(inputs.parse(text, fmt, source), source, path.stem)
