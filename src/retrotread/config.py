"""Settings: shipped defaults < the user's TOML file < RETROTREAD_<SECTION>__<KEY> environment vars.

Every safety value is range-checked here, at input, so a typo can never widen the backward band
(0.5..3.0 mph, SPEC.md): such a file is refused with one line naming the key, the value and the
allowed range, and the command exits 2 before anything connects. The same holds for a misspelled
environment variable (refused, naming the closest real one, rather than silently ignored), for a
value of the wrong type (`true` is not 1.0 mph, `"yes"` is not a bool), and for a file that is no
config at all (binary, huge, a FIFO, nested thousands deep).

Types are strict in files, where TOML has real numbers and booleans; environment values are
strings by nature, so each is parsed as its field's type first (`_EnvStrings`).
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import json
import os
import re
import shlex
import socket
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic import model_validator as model_check
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from retrotread import inputs
from retrotread.errors import InputError
from retrotread.paths import configs_dir
from retrotread.units import (
    DEFAULT_FORWARD_MAX_MPH,
    HARD_CEILING_MPH,
    HARD_FLOOR_MPH,
    MIN_BAND_WIDTH_MPH,
)
from retrotread.validation import (
    Location,
    field_error,
    format_location,
    format_number,
    in_range,
    looks_secret,
    one_line,
)

# The hard limits (units.py) are the supervisor's; config and plans validate input against the
# very same numbers. The band stays at least MIN_BAND_WIDTH_MPH wide, so that a device grid has a
# chance to hold a speed inside it and a ramp has somewhere to go.
# Float sums are not exact (1.1 + 0.1 > 1.2): values that differ by 0.1 as typed count as 0.1.
_WIDTH_SLACK_MPH = 1e-9

# --time-scale / [sim] time_scale: virtual seconds per real second. The simulator's clock waits
# (virtual delay / scale) real seconds, so a tiny scale turns a 1 s timer into days and, by 1e-9,
# overflows the selector's timeout; 100000 is what the tests run at, and beyond it there is
# nothing left to gain. 1000 is "fast", 0.1 "slow motion": both well inside.
TIME_SCALE_MIN = 0.001
TIME_SCALE_MAX = 100_000

ENV_PREFIX = "RETROTREAD_"
ENV_DELIMITER = "__"
DATA_DIR_ENV = "RETROTREAD_DATA_DIR"
# RETROTREAD_* names that are read but are not `<SECTION>__<KEY>` settings.
EXTRA_ENV_NAMES: dict[str, Location] = {DATA_DIR_ENV: ("journal", "data_dir")}

# The longest topic the bridge builds around `<base_topic>/<id>` adds fewer bytes than this
# ("/availability"; Home Assistant's "homeassistant/button/retrotread_<id>/emergency_stop/config"
# carries only the id), and MQTT topics are at most 65535 bytes of UTF-8.
MQTT_TOPIC_MAX_BYTES = 65_535
_MQTT_TOPIC_HEADROOM = 64

# The names of `QuirkName`, as a Literal so that strict validation takes them as strings (a test
# keeps the two in step).
Quirk = Literal[
    "request_control_rejected",
    "ack_by_machine_status",
    "stale_stop_on_subscribe",
    "start_before_speed",
    "start_toggles_pause",
    "speed_param_mph",
    "min_speed_1kmh",
    "zero_packets",
    "single_central",
]
QUIRK_NAMES: tuple[str, ...] = get_args(Quirk)
TurnaroundMode = Literal["floor", "pause"]
CueMode = Literal["auto", "speech", "bell", "off"]
CUE_MODES: tuple[str, ...] = get_args(CueMode)

_NARROW_ONLY = "may narrow the band, never widen it"
_WIDTH = format_number(MIN_BAND_WIDTH_MPH)


def band_too_narrow(floor_mph: float, ceiling_mph: float) -> bool:
    """Whether [floor, ceiling] is narrower than MIN_BAND_WIDTH_MPH (SPEC.md)."""
    return ceiling_mph - floor_mph < MIN_BAND_WIDTH_MPH - _WIDTH_SLACK_MPH


def lowest_ceiling_mph(floor_mph: float) -> float:
    """The smallest ceiling a band with this floor may have, as a person would write it."""
    return round(floor_mph + MIN_BAND_WIDTH_MPH, 6)


def highest_floor_mph(ceiling_mph: float) -> float:
    return round(ceiling_mph - MIN_BAND_WIDTH_MPH, 6)


BackwardMph = Annotated[
    float, in_range(HARD_FLOOR_MPH, HARD_CEILING_MPH, "mph", hint=_NARROW_ONLY)
]
ForwardMph = Annotated[
    float,
    in_range(HARD_FLOOR_MPH, DEFAULT_FORWARD_MAX_MPH, "mph", hint="may lower the ceiling only"),
]


class _Section(BaseModel):
    # strict: a TOML `true` is not 1.0 mph and a TOML "yes" is not a bool.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SafetyConfig(_Section):
    """Limits the supervisor enforces; each may be made stricter, none looser than its range."""

    max_backward_mph: BackwardMph = HARD_CEILING_MPH
    min_backward_mph: BackwardMph = HARD_FLOOR_MPH
    forward_max_mph: ForwardMph = DEFAULT_FORWARD_MAX_MPH
    max_step_mph: Annotated[float, in_range(0, 0.5, "mph", lo_open=True)] = 0.1
    step_interval_s: Annotated[float, in_range(0.2, 10.0, "s")] = 1.0
    telemetry_timeout_s: Annotated[float, in_range(1.0, 10.0, "s")] = 3.0
    overspeed_tolerance_mph: Annotated[float, in_range(0.1, 0.5, "mph")] = 0.3
    max_heart_rate_bpm: Annotated[int, in_range(60, 220, "bpm")] | None = None
    heart_rate_slow_s: Annotated[float, in_range(5.0, 120.0, "s")] = 30.0
    heart_rate_timeout_s: Annotated[float, in_range(3.0, 60.0, "s")] = 10.0
    stop_verify_timeout_s: Annotated[float, in_range(2.0, 60.0, "s")] = 10.0
    command_timeout_s: Annotated[float, in_range(0.5, 10.0, "s")] = 2.0
    turnaround_hold_s: Annotated[float, in_range(2.0, 60.0, "s")] = 5.0
    turnaround_mode: TurnaroundMode = "floor"
    # The struggle governor (treadmills that count steps): a step length this fraction below the
    # walker's baseline at a steady belt, for struggle_hold_s, slows the belt one step.
    struggle_step_drop: Annotated[float, in_range(0.1, 0.5, "")] = 0.2
    struggle_hold_s: Annotated[float, in_range(5.0, 120.0, "s")] = 20.0
    struggle_baseline_s: Annotated[float, in_range(15.0, 300.0, "s")] = 30.0
    struggle_cooldown_s: Annotated[float, in_range(10.0, 600.0, "s")] = 60.0

    @model_check(mode="after")
    def _band_wide_enough(self) -> SafetyConfig:
        """The backward band keeps at least MIN_BAND_WIDTH_MPH between floor and ceiling.

        The one to blame is the one the user moved: a lowered ceiling is told the smallest value
        it may take; otherwise (the ceiling is the hard one, or no ceiling could make room) the
        floor is told the largest.
        """
        floor, ceiling = self.min_backward_mph, self.max_backward_mph
        if not band_too_narrow(floor, ceiling):
            return self
        lowest = lowest_ceiling_mph(floor)
        if ceiling < HARD_CEILING_MPH and lowest <= HARD_CEILING_MPH:
            raise field_error(
                "max_backward_mph",
                ceiling,
                f"must be >= {format_number(lowest)} mph, at least {_WIDTH} mph above "
                f"min_backward_mph ({format_number(floor)} mph)",
            )
        raise field_error(
            "min_backward_mph",
            floor,
            f"must be <= {format_number(max(highest_floor_mph(ceiling), HARD_FLOOR_MPH))} mph, "
            f"at least {_WIDTH} mph below max_backward_mph ({format_number(ceiling)} mph)",
        )


class DeviceConfig(_Section):
    """The firmware quirks to work around, and how long to try connecting. The treadmill itself
    is always named on the command line (`--device`): a session never starts on a default."""

    # Not strict: TOML and JSON have lists, not tuples; each name is still checked exactly.
    quirks: Annotated[tuple[Quirk, ...], Field(strict=False)] = ()
    connect_timeout_s: Annotated[float, in_range(1.0, 120.0, "s")] = 20.0


class HeartRateConfig(_Section):
    """The heart-rate strap read beside the treadmill (`--hr-device` overrides `device`).

    Unset: no strap, the treadmill's own heart rate (if it reports one) is all there is."""

    device: str | None = None


# 220 - age: the common estimate of a maximum heart rate, the limit a user who gave an age but
# no max_heart_rate_bpm gets (SPEC.md "Set-up").
AGE_PREDICTED_MAX_HR_BPM = 220


class UserConfig(_Section):
    """The walker, for energy estimates, the heart-rate limit and the coach (SPEC.md "Set-up").

    Every field is optional: nothing here is needed to walk, and an unset age or maximum heart
    rate simply means no limit is derived from it (`Settings.max_heart_rate_bpm`)."""

    name: str | None = None
    weight_kg: Annotated[float, in_range(30, 250, "kg")] | None = None
    age: Annotated[int, in_range(10, 110, "years")] | None = None
    max_heart_rate_bpm: Annotated[int, in_range(60, 220, "bpm")] | None = None


def _host_slug() -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", socket.gethostname().lower()).strip("-")
    return slug if slug and slug != "all" else "retrotread"


_TOPIC_ID = re.compile(r"[A-Za-z0-9_-]+")
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class MqttConfig(_Section):
    """The optional MQTT bridge (SPEC.md "MQTT"). Secrets come from here or env, never flags."""

    enabled: bool = False
    url: str = "mqtt://localhost:1883"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Annotated[Path | None, Field(strict=False)] = None  # a path is written as a string
    id: str = Field(default_factory=_host_slug)
    telemetry_hz: Annotated[float, in_range(0, 10, "Hz", lo_open=True)] = 1.0
    discovery: bool = True
    base_topic: str = "retrotread"

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        usage = "must be mqtt://host[:port] or mqtts://host[:port]"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError(usage + " (port 1..65535)") from None
        if parts.username is not None or parts.password is not None:
            raise ValueError(usage + "; put credentials in mqtt.username / mqtt.password")
        if (
            parts.scheme not in _DEFAULT_PORTS
            or not parts.hostname
            or parts.path not in ("", "/")
            or port == 0
        ):
            raise ValueError(usage)
        return url

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        # One topic level: no "/" (it would nest under another id), no "+" / "#" (wildcards).
        if not _TOPIC_ID.fullmatch(value) or value.lower() == "all":
            raise ValueError("must be letters, digits, - or _ (and not 'all', the fleet topic)")
        # Topics and Home Assistant object ids are lowercase: one spelling everywhere.
        return value.lower()

    @field_validator("base_topic")
    @classmethod
    def _check_base_topic(cls, value: str) -> str:
        if not value or any(c in value for c in "+#\0") or value.startswith("/"):
            raise ValueError("must be a plain MQTT topic without wildcards")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # an environment value with undecodable bytes
            raise ValueError("must be valid UTF-8 text") from None
        return value.rstrip("/")

    @model_check(mode="after")
    def _topics_fit(self) -> MqttConfig:
        """Every topic built from base_topic and id must fit MQTT's limit: refused here, once,
        rather than as an exception from the client mid-session."""
        base, ident = len(self.base_topic.encode("utf-8")), len(self.id.encode("utf-8"))
        room = MQTT_TOPIC_MAX_BYTES - _MQTT_TOPIC_HEADROOM - 1
        if base + ident > room:
            field, value, own = (
                ("base_topic", self.base_topic, base) if base >= ident else ("id", self.id, ident)
            )
            raise field_error(
                field,
                value if own <= 40 else value[:37] + "...",
                f"too long: topics are at most {MQTT_TOPIC_MAX_BYTES} bytes, so base_topic and "
                f"id together must stay within {room} bytes (they are {base + ident})",
            )
        return self

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or _DEFAULT_PORTS[parts.scheme]

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def topic_base(self) -> str:
        return f"{self.base_topic}/{self.id}"


class CuesConfig(_Section):
    """What the walker hears (SPEC.md "Walker cues"): the walker faces away from every screen.

    `engine` is a command line; each cue's text is appended as its last argument, so any speech
    program (or a test's `espeak-ng -w FILE`) can stand in. `rate_wpm`, `voice` and `volume` are
    passed as espeak's `-s`, `-v` and `-a` when the engine is espeak or espeak-ng, whose flags
    they are (`-a`: amplitude 0..200, 100 its default)."""

    mode: CueMode = "auto"
    engine: str = "espeak-ng"
    rate_wpm: Annotated[int, in_range(80, 400, "words per minute")] = 150
    voice: str | None = None
    volume: Annotated[int, in_range(0, 200, hint="espeak amplitude, 100 = its default")] = 100

    @field_validator("engine")
    @classmethod
    def _check_engine(cls, value: str) -> str:
        try:
            words = shlex.split(value)
        except ValueError as err:
            raise ValueError(f"must be a command line ({err})") from None
        if not words:
            raise ValueError("must name a program, e.g. espeak-ng")
        return value


DisplayUnits = Literal["imperial", "metric"]
"""`[display] units`: how speeds and distances read for people (JSON keeps its own units)."""


class DisplayConfig(_Section):
    """How numbers read for a person: the live view, plain lines, `info`, `programs`, the
    summary and the cues. JSON events keep SPEC's units whatever this says."""

    units: DisplayUnits = "imperial"


class JournalConfig(_Section):
    data_dir: Annotated[Path | None, Field(strict=False)] = None  # a path is written as a string


TimeScale = Annotated[
    float, in_range(TIME_SCALE_MIN, TIME_SCALE_MAX, hint="virtual seconds per real second")
]


class SimConfig(_Section):
    profile: str = "generic"
    time_scale: TimeScale = 1.0


def check_time_scale(value: float, source: str = "--time-scale") -> float:
    """`--time-scale` against the same bounds as [sim] time_scale; InputError (exit 2) if not.

    Not a number in range (0, inf, nan, 1e-9) would overflow or stall the simulator's clock."""
    if not TIME_SCALE_MIN <= value <= TIME_SCALE_MAX:  # False for nan too
        raise InputError(
            f"{source} = {value!r}: must be within {format_number(TIME_SCALE_MIN)}.."
            f"{format_number(TIME_SCALE_MAX)} (virtual seconds per real second)"
        )
    return value


class _EnvStrings(EnvSettingsSource):
    """pydantic-settings' environment source, each string then parsed as its field's type.

    The sections are strict, which is right for files but would refuse every environment value
    (all strings). So a string is converted here, by the field's plain type without its range
    check: "2.0" -> 2.0, "true" / "yes" -> True, "150" -> 150. What does not convert stays a
    string and the strict model refuses it, naming the variable. Unlike pydantic-settings' own
    strict coercion this never falls back to JSON: "true" must not become 1.0 mph.
    """

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for section, values in data.items():
            field = Settings.model_fields.get(section)
            model = field.annotation if field is not None else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            if isinstance(values, dict):
                data[section] = _parsed_strings(model, values)
        return data


def _parsed_strings(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    parsed = dict(values)
    for key, value in values.items():
        info = model.model_fields.get(key)
        if info is None or not isinstance(value, str):
            continue
        # What does not parse stays text: validation refuses it with the variable's name.
        with contextlib.suppress(ValidationError):
            parsed[key] = _lax_adapter(info.annotation).validate_python(value)
    return parsed


_LAX_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _lax_adapter(annotation: object) -> TypeAdapter[Any]:
    adapter = _LAX_ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _LAX_ADAPTERS[annotation] = TypeAdapter(_plain_type(annotation))
    return adapter


def _plain_type(annotation: Any) -> Any:
    """`annotation` without its Annotated validators (range checks belong to the model)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _plain_type(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return Union[tuple(_plain_type(arg) for arg in get_args(annotation))]  # noqa: UP007
    return annotation


class _DataDirEnv(PydanticBaseSettingsSource):
    """`$RETROTREAD_DATA_DIR` (SPEC.md) as a value for journal.data_dir, above the files."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        value = os.environ.get(DATA_DIR_ENV)
        return {"journal": {"data_dir": value}} if value else {}


class Settings(BaseSettings):
    """All settings. Build it with `load_settings()`, which adds the two TOML layers."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        env_ignore_empty=True,  # `RETROTREAD_X= cmd` means "not set", not "set to nothing"
        extra="forbid",
        frozen=True,
    )

    safety: SafetyConfig = SafetyConfig()
    device: DeviceConfig = DeviceConfig()
    heart_rate: HeartRateConfig = HeartRateConfig()
    user: UserConfig = UserConfig()
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    cues: CuesConfig = CuesConfig()
    display: DisplayConfig = DisplayConfig()
    journal: JournalConfig = JournalConfig()
    sim: SimConfig = SimConfig()

    _source_of: Callable[[Location], str] | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The files arrive as init values (merged by load_settings); env vars must beat them.
        return _EnvStrings(settings_cls), _DataDirEnv(settings_cls), init_settings

    def data_dir(self) -> Path:
        """Where journals live: config or env, else the XDG data home (SPEC.md "Files")."""
        if self.journal.data_dir is not None:
            return self.journal.data_dir.expanduser()
        xdg = os.environ.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg else Path.home() / ".local" / "share"
        return base / "retrotread"

    def max_heart_rate_bpm(self) -> int | None:
        """The heart-rate limit the supervisor enforces: safety.max_heart_rate_bpm when set (the
        explicit safety setting wins), else user.max_heart_rate_bpm, else 220 - user.age when
        an age is given, else none. Every result lies within 60..220 bpm (age is 10..110)."""
        if self.safety.max_heart_rate_bpm is not None:
            return self.safety.max_heart_rate_bpm
        if self.user.max_heart_rate_bpm is not None:
            return self.user.max_heart_rate_bpm
        if self.user.age is not None:
            return AGE_PREDICTED_MAX_HR_BPM - self.user.age
        return None

    def max_heart_rate_name(self) -> str:
        """The setting `max_heart_rate_bpm()` came from, in the same order, for an error line
        about the limit (with no limit at all, the one setting that would make one)."""
        if self.safety.max_heart_rate_bpm is None:
            if self.user.max_heart_rate_bpm is not None:
                return "user.max_heart_rate_bpm"
            if self.user.age is not None:
                return "220 - user.age"
        return "safety.max_heart_rate_bpm"

    def heart_rate_limit_is_derived(self) -> bool:
        """The limit comes from `220 - user.age` alone: nobody asked for a limit, so a treadmill
        that never reports a heart rate must not be held at the floor for want of one."""
        return (
            self.safety.max_heart_rate_bpm is None
            and self.user.max_heart_rate_bpm is None
            and self.user.age is not None
        )

    def session_safety(self) -> SafetyConfig:
        """[safety] with the resolved heart-rate limit filled in: what a session's plan check
        and supervisor use, so a limit derived from [user] is enforced like a configured one."""
        return self.safety.model_copy(update={"max_heart_rate_bpm": self.max_heart_rate_bpm()})

    def source(self, loc: Location) -> str:
        """Where the value at `loc` came from, for an error line: `environment NAME`,
        `config FILE` (the shipped defaults are a file too), or `default` for a model built
        without `load_settings`."""
        return self._source_of(loc) if self._source_of is not None else "default"

    def data_dir_source(self) -> str:
        """Who chose `data_dir()`: the setting's source, or the XDG default."""
        if self.journal.data_dir is not None:
            return self.source(("journal", "data_dir"))
        return "default data directory" + (
            " ($XDG_DATA_HOME)" if os.environ.get("XDG_DATA_HOME") else ""
        )

    def check_speed_caps(self, max_speed_mph: float | None, *, forward: bool) -> None:
        """The band-width rule of SPEC.md for what only the session knows: `--max-speed`, and
        the forward ceiling when the plan has forward segments. InputError (exit 2), naming the
        value to change, its source and the smallest value allowed.

        The configured backward band was checked when loading (SafetyConfig). Forward segments
        start from the backward floor (the turn-around speed), so a forward ceiling matters only
        when there are forward segments: a backward-only plan may leave it anywhere.
        """
        safety = self.safety
        floor = safety.min_backward_mph
        lowest = format_number(lowest_ceiling_mph(floor))
        floor_text = (
            f"at least {_WIDTH} mph above safety.min_backward_mph ({format_number(floor)} mph, "
            f"{self.source(('safety', 'min_backward_mph'))})"
        )
        if (
            max_speed_mph is not None
            and max_speed_mph < safety.max_backward_mph
            and band_too_narrow(floor, max_speed_mph)
        ):
            raise InputError(
                f"--max-speed = {format_number(max_speed_mph)}: must be >= {lowest} mph, "
                + floor_text
            )
        if forward and band_too_narrow(floor, safety.forward_max_mph):
            raise InputError(
                f"{self.source(('safety', 'forward_max_mph'))}: safety.forward_max_mph = "
                f"{format_number(safety.forward_max_mph)}: must be >= {lowest} mph for a plan "
                f"with forward segments, {floor_text}"
            )


def user_config_path() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "retrotread" / "config.toml"


def default_config_path() -> Path:
    return configs_dir() / "default.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    source = f"config {path}"
    return inputs.parse(inputs.read_text(path, source), "toml", source)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _has(data: Mapping[str, Any], loc: Location) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _set_env() -> dict[str, str]:
    """RETROTREAD_* variables by upper-cased name (pydantic-settings ignores the case); empty
    ones are "not set" (env_ignore_empty)."""
    return {
        name.upper(): name
        for name, value in os.environ.items()
        if name.upper().startswith(ENV_PREFIX) and value != ""
    }


def _env_name(loc: Location) -> str | None:
    """The environment variable that set `loc`, if one did, in the order pydantic-settings
    applies them: `<SECTION>__<KEY>`, then a JSON `<SECTION>` holding the key, then the
    extra names such as RETROTREAD_DATA_DIR. A location inside a value (a list item) belongs
    to the variable that set the value."""
    present = _set_env()
    keys = [str(part) for part in itertools.takewhile(lambda p: isinstance(p, str), loc)][:2]
    for depth in range(len(keys), 0, -1):
        name = (ENV_PREFIX + ENV_DELIMITER.join(keys[:depth])).upper()
        if name not in present:
            continue
        if depth == len(keys) or _json_has(os.environ[present[name]], tuple(keys[depth:])):
            return present[name]
    for name, target in EXTRA_ENV_NAMES.items():
        if target == tuple(keys) and name in present:
            return present[name]
    return None


def _json_has(text: str, loc: Location) -> bool:
    try:
        return _has(json.loads(text), loc)
    except (ValueError, RecursionError):
        return False


def _env_settings() -> dict[str, tuple[Location, bool]]:
    """Every RETROTREAD_* name that sets something: upper-cased name -> (location, whether the
    value is JSON). A section takes a JSON object; a list-valued key takes a JSON list."""
    names: dict[str, tuple[Location, bool]] = {
        name: (loc, False) for name, loc in EXTRA_ENV_NAMES.items()
    }
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        section_name = (ENV_PREFIX + section).upper()
        names[section_name] = ((section,), True)
        for key, info in model.model_fields.items():
            is_json = get_origin(info.annotation) in (tuple, list, dict)
            names[(section_name + ENV_DELIMITER + key).upper()] = ((section, key), is_json)
    return names


def check_environment(*, unknown_names: Literal["refuse", "warn"] = "refuse") -> None:
    """Refuse RETROTREAD_* variables that name no setting (SPEC.md "Environment and input"),
    naming the closest real one, and JSON values that do not parse; one InputError line.

    A misspelled safety setting must never be silently ignored: `RETROTREAD_SAFTEY__...` or a
    single underscore would leave the belt at the default ceiling. The value is never repeated
    for an unknown name (it may be a password under a misspelled key).
    """
    known = _env_settings()
    problems: list[str] = []
    for name in sorted(os.environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        if upper not in known:
            closest = difflib.get_close_matches(upper, list(known), n=1, cutoff=0.0)
            hint = f"; did you mean {closest[0]}?" if closest else ""
            if unknown_names == "warn":
                # An emergency stop must not be refused over a setting it does not read.
                print(f"retrotread: environment {name}: names no setting{hint}", file=sys.stderr)
            else:
                problems.append(f"environment {name}: names no setting{hint}")
            continue
        loc, is_json = known[upper]
        value = os.environ[name]
        if is_json and value != "":
            problem = _json_problem(value, loc)
            if problem is not None:
                shown = "" if looks_secret(name) or len(loc) == 1 else f" = {json.dumps(value)}"
                problems.append(f"environment {name}: {format_location(loc)}{shown}: {problem}")
    if problems:
        raise InputError("; ".join(problems))


def _json_problem(text: str, loc: Location) -> str | None:
    expected = 'a JSON object such as {"key": value}' if len(loc) == 1 else "a JSON list"
    if loc == ("device", "quirks"):
        expected = f'a JSON list such as ["{QUIRK_NAMES[0]}"]'
    try:
        data = json.loads(text)
    except RecursionError:
        return "nested too deeply"
    except ValueError as err:
        return f"must be {expected} ({err})"
    try:
        inputs.check_depth(data, "")
    except InputError:
        return "nested too deeply"
    return None


def load_settings(config_file: Path | None = None, *, for_stop: bool = False) -> Settings:
    """Load defaults, then `config_file` (or the user's file when it exists), then env vars.

    Raises InputError with one line on a bad value, an unknown key, an unknown RETROTREAD_*
    variable, or a file that cannot be read. `for_stop`: an unknown RETROTREAD_* variable only
    warns (`stop --device` / `--mqtt` must not be refused over a name they do not read).
    """
    check_environment(unknown_names="warn" if for_stop else "refuse")
    default_path = default_config_path()
    layers: list[tuple[Path, dict[str, Any]]] = [(default_path, _read_toml(default_path))]
    user_path = config_file if config_file is not None else user_config_path()
    if config_file is not None or user_path.is_file():
        layers.append((user_path, _read_toml(user_path)))

    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _merge(merged, data)

    def source_of(loc: Location) -> str:
        env = _env_name(loc)
        if env is not None:
            return f"environment {env}"
        for path, data in reversed(layers):
            if _has(data, loc):
                return f"config {path}"
        return "default"  # the model's own default, written in no file

    try:
        settings = Settings(**merged)
    except ValidationError as err:
        raise InputError(one_line(err, "config", source_of, model=Settings)) from None
    except SettingsError as err:  # a value pydantic-settings could not parse (check_environment
        # catches the known cases first)
        cause = f": {err.__cause__}" if err.__cause__ else ""
        raise InputError(f"environment: {err}{cause}") from None
    settings._source_of = source_of
    return settings


def effective_settings(settings: Settings) -> dict[str, dict[str, dict[str, Any]]]:
    """`retrotread config`: every setting's value and where it came from, by section.

    The source is `default` (the shipped defaults, or the model's own), `file PATH` (the user's
    config) or `environment NAME`. Secrets are never shown, only whether one is set.
    """
    default_file = f"config {default_config_path()}"
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for section_name in type(settings).model_fields:
        section = getattr(settings, section_name)
        if not isinstance(section, BaseModel):
            continue
        entries: dict[str, dict[str, Any]] = {}
        for key in type(section).model_fields:
            value = getattr(section, key)
            if isinstance(value, SecretStr) or (value is not None and looks_secret(key)):
                value = "(set)"
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            source = settings.source((section_name, key))
            if source == default_file:
                source = "default"
            elif source.startswith("config "):
                source = "file " + source.removeprefix("config ")
            entries[key] = {"value": value, "source": source}
        report[section_name] = entries
    return report
