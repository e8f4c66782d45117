"""Settings: layering, a safety band that can only narrow, one-line errors naming key and range."""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrotread.config import (
    QUIRK_NAMES,
    MqttConfig,
    Settings,
    default_config_path,
    load_settings,
    user_config_path,
)
from retrotread.errors import InputError

FILE_FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray RETROTREAD_* variables, and a user config home that holds nothing yet."""
    for name in list(os.environ):
        if name.upper().startswith("RETROTREAD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(config_file: Path | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_settings(config_file)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_match_the_spec() -> None:
    s = load_settings()
    assert s.safety.max_backward_mph == 3.0
    assert s.safety.min_backward_mph == 0.5
    assert s.safety.forward_max_mph == 4.0
    assert s.safety.max_step_mph == 0.1
    assert s.safety.step_interval_s == 1.0
    assert s.safety.telemetry_timeout_s == 3.0
    assert s.safety.max_heart_rate_bpm is None
    assert s.safety.turnaround_mode == "floor"
    assert s.mqtt.telemetry_hz == 1.0
    assert s.mqtt.discovery is True
    assert s.mqtt.enabled is False
    assert s.mqtt.base_topic == "retrotread"
    assert s.sim.profile == "generic"


def test_default_toml_ships_the_same_values_as_the_models() -> None:
    assert load_settings().model_dump() == Settings().model_dump()


def test_default_toml_names_every_key_that_has_a_value() -> None:
    shipped = tomllib.loads(default_config_path().read_text(encoding="utf-8"))
    for section, value in Settings().model_dump().items():
        expected = {key for key, default in value.items() if default is not None}
        expected.discard("id")  # derived from the host name at run time
        assert expected <= set(shipped[section]), section


# --- layering ---------------------------------------------------------------------------------


def test_file_overrides_defaults_and_env_overrides_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmax_backward_mph = 2.5\nmax_step_mph = 0.05\n")
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "2.0")
    s = load_settings(path)
    assert s.safety.max_backward_mph == 2.0  # env beats the file
    assert s.safety.max_step_mph == 0.05  # the file beats the default
    assert s.safety.forward_max_mph == 4.0  # the default stays


def test_user_file_in_xdg_config_home_is_read(tmp_path: Path) -> None:
    write(user_config_path(), '[sim]\nprofile = "coarse-grid"\n')
    assert user_config_path() == tmp_path / "xdg-config" / "retrotread" / "config.toml"
    assert load_settings().sim.profile == "coarse-grid"


def test_explicit_config_replaces_the_user_file(tmp_path: Path) -> None:
    write(user_config_path(), '[sim]\nprofile = "coarse-grid"\n')
    other = write(tmp_path / "other.toml", "[sim]\ntime_scale = 50\n")
    s = load_settings(other)
    assert s.sim.profile == "generic"
    assert s.sim.time_scale == 50.0


def test_env_sets_nested_values_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__URL", "mqtts://broker.example:8884")
    monkeypatch.setenv("RETROTREAD_MQTT__PASSWORD", "s3cret")
    monkeypatch.setenv("RETROTREAD_DEVICE__QUIRKS", '["start_before_speed"]')
    s = load_settings()
    assert s.mqtt.host == "broker.example"
    assert s.mqtt.port == 8884
    assert s.mqtt.tls is True
    assert s.mqtt.password is not None
    assert s.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.device.quirks == ("start_before_speed",)


def test_empty_env_var_counts_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmax_heart_rate_bpm = 150\n")
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_HEART_RATE_BPM", "")
    assert load_settings(path).safety.max_heart_rate_bpm == 150


# --- refusing widening values -------------------------------------------------------------------

WIDENING = [
    ("max_backward_mph", "3.01", "0.5..3.0 mph"),
    ("max_backward_mph", "10", "0.5..3.0 mph"),
    ("max_backward_mph", "0.4", "0.5..3.0 mph"),
    ("min_backward_mph", "0.4", "0.5..3.0 mph"),
    ("min_backward_mph", "0", "0.5..3.0 mph"),
    ("forward_max_mph", "4.5", "0.5..4.0 mph"),
    ("max_step_mph", "0.6", "> 0 and <= 0.5 mph"),
    ("max_step_mph", "0", "> 0 and <= 0.5 mph"),
    ("max_step_mph", "-0.1", "> 0 and <= 0.5 mph"),
    ("step_interval_s", "0.1", "0.2..10.0 s"),
    ("telemetry_timeout_s", "30", "1.0..10.0 s"),
    ("overspeed_tolerance_mph", "1.0", "0.1..0.5 mph"),
    ("max_heart_rate_bpm", "250", "60..220 bpm"),
    ("heart_rate_slow_s", "600", "5.0..120.0 s"),
    ("stop_verify_timeout_s", "100", "2.0..60.0 s"),
    ("command_timeout_s", "30", "0.5..10.0 s"),
    ("turnaround_hold_s", "1", "2.0..60.0 s"),
    ("max_backward_mph", "nan", "0.5..3.0 mph"),
    ("max_backward_mph", "inf", "0.5..3.0 mph"),
    ("max_backward_mph", '"fast"', "0.5..3.0 mph"),
]


@pytest.mark.parametrize(("key", "value", "allowed"), WIDENING)
def test_a_value_outside_its_range_is_refused_naming_key_value_and_range(
    tmp_path: Path, key: str, value: str, allowed: str
) -> None:
    path = write(tmp_path / "c.toml", f"[safety]\n{key} = {value}\n")
    message = refused(path)
    assert message.startswith(f"config {path}: safety.{key} = ")
    assert allowed in message


def test_floor_above_ceiling_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmax_backward_mph = 2.0\nmin_backward_mph = 2.5\n")
    assert refused(path) == (
        f"config {path}: safety.min_backward_mph = 2.5: must be <= max_backward_mph (2.0 mph)"
    )


def test_env_value_is_blamed_on_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "3.5")
    message = refused()
    assert message.startswith("environment RETROTREAD_SAFETY__MAX_BACKWARD_MPH: ")
    assert "safety.max_backward_mph" in message
    assert "0.5..3.0 mph" in message


def test_turnaround_mode_must_be_floor_or_pause(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[safety]\nturnaround_mode = "jump"\n')
    message = refused(path)
    assert 'safety.turnaround_mode = "jump"' in message
    assert "'floor'" in message
    assert "'pause'" in message


@FILE_FIXTURE_OK
@given(st.floats(min_value=3.0, exclude_min=True, allow_nan=False, allow_infinity=False))
def test_any_ceiling_above_the_band_is_refused(tmp_path: Path, mph: float) -> None:
    path = write(tmp_path / "p.toml", f"[safety]\nmax_backward_mph = {mph!r}\n")
    message = refused(path)
    assert "safety.max_backward_mph" in message
    assert "0.5..3.0 mph" in message


@FILE_FIXTURE_OK
@given(st.floats(min_value=0.5, max_value=3.0), st.floats(min_value=0.5, max_value=3.0))
def test_any_band_inside_the_hard_band_is_accepted(tmp_path: Path, a: float, b: float) -> None:
    low, high = sorted((a, b))
    path = write(
        tmp_path / "p.toml",
        f"[safety]\nmax_backward_mph = {high!r}\nmin_backward_mph = {low!r}\n",
    )
    s = load_settings(path)
    assert s.safety.max_backward_mph == high
    assert s.safety.min_backward_mph == low


# --- bad files and unknown keys -----------------------------------------------------------------


def test_invalid_toml_is_one_line_with_the_position(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[safety\nmax_backward_mph = 2\n")
    message = refused(path)
    assert message.startswith(f"config {path}: invalid TOML: ")
    assert "line 1" in message


def test_missing_explicit_config_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path / "nope.toml")
    assert message.startswith(f"config {tmp_path / 'nope.toml'}: cannot read")


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmax_speed = 2.0\n")
    assert refused(path) == f"config {path}: safety.max_speed = 2.0: unknown key"


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[belt]\nspeed = 2.0\n")
    message = refused(path)
    assert message.startswith(f"config {path}: belt = ")
    assert message.endswith("unknown key")


def test_unknown_env_key_in_a_section_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_SPEED", "9")
    assert (
        refused() == 'environment RETROTREAD_SAFETY__MAX_SPEED: safety.max_speed = "9": unknown key'
    )


def test_unknown_quirk_is_refused_listing_the_names(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[device]\nquirks = ["warp_drive"]\n')
    message = refused(path)
    assert 'device.quirks[0] = "warp_drive"' in message
    assert all(name in message for name in QUIRK_NAMES)


def test_several_errors_stay_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmax_step_mph = 1\nstep_interval_s = 0\n")
    message = refused(path)
    assert "safety.max_step_mph" in message
    assert "safety.step_interval_s" in message
    assert "; " in message


# --- mqtt -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://broker:1883", "mqtt://", "mqtt://broker:70000", "broker:1883", "mqtt://b:1883/x"],
)
def test_bad_mqtt_url_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__URL", url)
    message = refused()
    assert "mqtt.url" in message
    assert "mqtt://host[:port] or mqtts://host[:port]" in message


def test_credentials_in_the_url_are_refused_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__URL", "mqtt://me:hunter2@broker")
    message = refused()
    assert "hunter2" not in message
    assert "mqtt.username" in message


def test_a_bad_password_value_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[mqtt]\npassword = 123456789\n")
    message = refused(path)
    assert "mqtt.password = ***" in message
    assert "123456789" not in message


@pytest.mark.parametrize(
    ("url", "port", "tls"),
    [("mqtt://b", 1883, False), ("mqtts://b", 8883, True), ("mqtt://b:1884", 1884, False)],
)
def test_mqtt_port_defaults_by_scheme(url: str, port: int, tls: bool) -> None:
    mqtt = MqttConfig(url=url, id="x")
    assert (mqtt.host, mqtt.port, mqtt.tls) == ("b", port, tls)


def test_mqtt_id_defaults_to_a_slug_of_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "Living Room.local")
    mqtt = load_settings().mqtt
    assert mqtt.id == "living-room-local"
    assert mqtt.topic_base == "retrotread/living-room-local"


@pytest.mark.parametrize("bad_id", ["all", "a/b", "a+b", "#", ""])
def test_mqtt_id_must_be_a_plain_topic_level(tmp_path: Path, bad_id: str) -> None:
    path = write(tmp_path / "c.toml", f'[mqtt]\nid = "{bad_id}"\n')
    assert refused(path).startswith(f'config {path}: mqtt.id = "{bad_id}": must be letters')


@pytest.mark.parametrize("hz", ["0", "11", "-1"])
def test_telemetry_rate_is_bounded(monkeypatch: pytest.MonkeyPatch, hz: str) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__TELEMETRY_HZ", hz)
    assert "> 0 and <= 10 Hz" in refused()


# --- journal data dir ---------------------------------------------------------------------------


def test_data_dir_defaults_to_xdg_data_home(tmp_path: Path) -> None:
    s = load_settings()
    assert s.data_dir() == tmp_path / "xdg-data" / "retrotread"


def test_data_dir_falls_back_to_local_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME")
    assert load_settings().data_dir() == Path.home() / ".local" / "share" / "retrotread"


def test_retrotread_data_dir_beats_the_file_and_nested_env_beats_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", f'[journal]\ndata_dir = "{tmp_path / "from-file"}"\n')
    assert load_settings(path).data_dir() == tmp_path / "from-file"
    monkeypatch.setenv("RETROTREAD_DATA_DIR", str(tmp_path / "from-env"))
    assert load_settings(path).data_dir() == tmp_path / "from-env"
    monkeypatch.setenv("RETROTREAD_JOURNAL__DATA_DIR", str(tmp_path / "nested"))
    assert load_settings(path).data_dir() == tmp_path / "nested"


def test_a_default_device_is_not_a_setting(tmp_path: Path) -> None:
    """A session never starts on a treadmill the command line did not name (SPEC: exit 2)."""
    path = write(tmp_path / "c.toml", '[device]\naddress = "AA:BB:CC:DD:EE:FF"\n')
    with pytest.raises(InputError, match=r"device\.address"):
        load_settings(path)


def test_an_unsupported_quirk_is_refused_not_silently_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[device]\nquirks = ["vendor_unlock"]\n')
    with pytest.raises(InputError, match=r"device\.quirks"):
        load_settings(path)


def test_the_mqtt_id_is_lowercased_like_its_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__ID", "Garage")
    settings = load_settings()
    assert settings.mqtt.id == "garage"
    assert settings.mqtt.topic_base == "retrotread/garage"
