"""Settings: shipped defaults < the user's TOML file < RETROTREAD_<SECTION>__<KEY> environment vars.

Every safety value is range-checked here, at input, so a typo can never widen the backward band
(0.5..3.0 mph, SPEC.md): such a file is refused with one line naming the key, the value and the
allowed range, and the command exits 2 before anything connects.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic import model_validator as model_check
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from retrotread.errors import InputError
from retrotread.paths import configs_dir
from retrotread.safety.limits import DEFAULT_FORWARD_MAX_MPH, HARD_CEILING_MPH, HARD_FLOOR_MPH
from retrotread.validation import Location, field_error, in_range, one_line

# The hard limits live with the supervisor that enforces them; config and plans validate input
# against the very same numbers.
BAND_MIN_MPH = HARD_FLOOR_MPH
BAND_MAX_MPH = HARD_CEILING_MPH
FORWARD_LIMIT_MPH = DEFAULT_FORWARD_MAX_MPH

ENV_PREFIX = "RETROTREAD_"
ENV_DELIMITER = "__"
DATA_DIR_ENV = "RETROTREAD_DATA_DIR"

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

_NARROW_ONLY = "may narrow the band, never widen it"

BackwardMph = Annotated[float, in_range(BAND_MIN_MPH, BAND_MAX_MPH, "mph", hint=_NARROW_ONLY)]
ForwardMph = Annotated[
    float, in_range(BAND_MIN_MPH, FORWARD_LIMIT_MPH, "mph", hint="may lower the ceiling only")
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SafetyConfig(_Section):
    """Limits the supervisor enforces; each may be made stricter, none looser than its range."""

    max_backward_mph: BackwardMph = BAND_MAX_MPH
    min_backward_mph: BackwardMph = BAND_MIN_MPH
    forward_max_mph: ForwardMph = FORWARD_LIMIT_MPH
    max_step_mph: Annotated[float, in_range(0, 0.5, "mph", lo_open=True)] = 0.1
    step_interval_s: Annotated[float, in_range(0.2, 10.0, "s")] = 1.0
    telemetry_timeout_s: Annotated[float, in_range(1.0, 10.0, "s")] = 3.0
    overspeed_tolerance_mph: Annotated[float, in_range(0.1, 0.5, "mph")] = 0.3
    max_heart_rate_bpm: Annotated[int, in_range(60, 220, "bpm")] | None = None
    heart_rate_slow_s: Annotated[float, in_range(5.0, 120.0, "s")] = 30.0
    stop_verify_timeout_s: Annotated[float, in_range(2.0, 60.0, "s")] = 10.0
    command_timeout_s: Annotated[float, in_range(0.5, 10.0, "s")] = 2.0
    turnaround_hold_s: Annotated[float, in_range(2.0, 60.0, "s")] = 5.0
    turnaround_mode: TurnaroundMode = "floor"

    @model_check(mode="after")
    def _floor_below_ceiling(self) -> SafetyConfig:
        if self.min_backward_mph > self.max_backward_mph:
            raise field_error(
                "min_backward_mph",
                self.min_backward_mph,
                f"must be <= max_backward_mph ({self.max_backward_mph!r} mph)",
            )
        return self


class DeviceConfig(_Section):
    """The firmware quirks to work around, and how long to try connecting. The treadmill itself
    is always named on the command line (`--device`): a session never starts on a default."""

    quirks: tuple[Quirk, ...] = ()
    connect_timeout_s: Annotated[float, in_range(1.0, 120.0, "s")] = 20.0


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
    ca_file: Path | None = None
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
        if not _TOPIC_ID.fullmatch(value) or value.lower() == "all":
            raise ValueError("must be letters, digits, - or _ (and not 'all', the fleet topic)")
        # Topics and Home Assistant object ids are lowercase: one spelling everywhere.
        return value.lower()

    @field_validator("base_topic")
    @classmethod
    def _check_base_topic(cls, value: str) -> str:
        if not value or any(c in value for c in "+#\0") or value.startswith("/"):
            raise ValueError("must be a plain MQTT topic without wildcards")
        return value.rstrip("/")

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


class JournalConfig(_Section):
    data_dir: Path | None = None


class SimConfig(_Section):
    profile: str = "generic"
    time_scale: Annotated[float, in_range(0, 100_000, lo_open=True)] = 1.0


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
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    journal: JournalConfig = JournalConfig()
    sim: SimConfig = SimConfig()

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
        return env_settings, _DataDirEnv(settings_cls), init_settings

    def data_dir(self) -> Path:
        """Where journals live: config or env, else the XDG data home (SPEC.md "Files")."""
        if self.journal.data_dir is not None:
            return self.journal.data_dir.expanduser()
        xdg = os.environ.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg else Path.home() / ".local" / "share"
        return base / "retrotread"


def user_config_path() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "retrotread" / "config.toml"


def default_config_path() -> Path:
    return configs_dir() / "default.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as err:
        raise InputError(f"config {path}: cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"config {path}: invalid TOML: {err}") from None


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


def _env_name(loc: Location) -> str | None:
    """The environment variable that set `loc`, if one did (names are case-insensitive)."""
    wanted = {(ENV_PREFIX + ENV_DELIMITER.join(str(p) for p in loc)).upper()}
    if loc == ("journal", "data_dir"):
        wanted.add(DATA_DIR_ENV)
    for name in os.environ:
        if name.upper() in wanted:
            return name
    return None


def load_settings(config_file: Path | None = None) -> Settings:
    """Load defaults, then `config_file` (or the user's file when it exists), then env vars.

    Raises InputError with one line on a bad value, an unknown key or a file that cannot be read.
    """
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
        return f"config {layers[-1][0]}"

    try:
        return Settings(**merged)
    except ValidationError as err:
        raise InputError(one_line(err, "config", source_of)) from None
