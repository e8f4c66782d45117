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
from tests.support.settings import refused, write

FILE_FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


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
    ("struggle_step_drop", "0.6", "0.1..0.5"),
    ("struggle_step_drop", "0", "0.1..0.5"),
    ("struggle_hold_s", "2", "5.0..120.0 s"),
    ("struggle_baseline_s", "5", "15.0..300.0 s"),
    ("struggle_cooldown_s", "1000", "10.0..600.0 s"),
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
        f"config {path}: safety.max_backward_mph = 2.0: must be >= 2.6 mph, at least 0.1 mph "
        "above min_backward_mph (2.5 mph)"
    )


# --- the band stays at least 0.1 mph wide (SPEC "Units and limits") ---------------------------


def test_a_lowered_ceiling_on_the_floor_names_the_smallest_ceiling_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "0.5")
    assert refused() == (
        "environment RETROTREAD_SAFETY__MAX_BACKWARD_MPH: safety.max_backward_mph = 0.5: "
        "must be >= 0.6 mph, at least 0.1 mph above min_backward_mph (0.5 mph)"
    )


def test_a_floor_raised_to_the_hard_ceiling_names_the_highest_floor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MIN_BACKWARD_MPH", "3.0")
    assert refused() == (
        "environment RETROTREAD_SAFETY__MIN_BACKWARD_MPH: safety.min_backward_mph = 3.0: "
        "must be <= 2.9 mph, at least 0.1 mph below max_backward_mph (3.0 mph)"
    )


@pytest.mark.parametrize(("floor", "ceiling"), [(0.5, 0.6), (1.1, 1.2), (0.7, 0.8), (2.9, 3.0)])
def test_a_band_exactly_0_1_wide_is_accepted_despite_float_sums(
    tmp_path: Path, floor: float, ceiling: float
) -> None:
    path = write(
        tmp_path / "c.toml",
        f"[safety]\nmin_backward_mph = {floor}\nmax_backward_mph = {ceiling}\n",
    )
    safety = load_settings(path).safety
    assert (safety.min_backward_mph, safety.max_backward_mph) == (floor, ceiling)


def test_the_forward_ceiling_matters_only_with_forward_segments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MIN_BACKWARD_MPH", "2.5")
    monkeypatch.setenv("RETROTREAD_SAFETY__FORWARD_MAX_MPH", "2.0")
    settings = load_settings()
    settings.check_speed_caps(None, forward=False)
    with pytest.raises(InputError) as caught:
        settings.check_speed_caps(None, forward=True)
    assert str(caught.value) == (
        "environment RETROTREAD_SAFETY__FORWARD_MAX_MPH: safety.forward_max_mph = 2.0: must be "
        ">= 2.6 mph for a plan with forward segments, at least 0.1 mph above "
        "safety.min_backward_mph (2.5 mph, environment RETROTREAD_SAFETY__MIN_BACKWARD_MPH)"
    )


def test_max_speed_on_the_floor_names_the_smallest_cap_and_where_the_floor_came_from(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "c.toml", "[safety]\nmin_backward_mph = 1.0\n")
    settings = load_settings(path)
    settings.check_speed_caps(1.1, forward=True)
    with pytest.raises(InputError) as caught:
        settings.check_speed_caps(1.05, forward=False)
    assert str(caught.value) == (
        f"--max-speed = 1.05: must be >= 1.1 mph, at least 0.1 mph above "
        f"safety.min_backward_mph (1.0 mph, config {path})"
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
def test_any_band_inside_the_hard_band_is_accepted_when_wide_enough(
    tmp_path: Path, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    path = write(
        tmp_path / "p.toml",
        f"[safety]\nmax_backward_mph = {high!r}\nmin_backward_mph = {low!r}\n",
    )
    if high - low < 0.1 - 1e-9:
        message = refused(path)
        assert "at least 0.1 mph" in message
        assert "mph, at least" in message
        return
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
    assert refused() == (
        "environment RETROTREAD_SAFETY__MAX_SPEED: names no setting; "
        "did you mean RETROTREAD_SAFETY__MAX_STEP_MPH?"
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


# --- environment names: a misspelled setting is refused, never ignored (SPEC) ----------------


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("RETROTREAD_SAFTEY__MAX_BACKWARD_MPH", "RETROTREAD_SAFETY__MAX_BACKWARD_MPH"),
        ("RETROTREAD_SAFETY_MAX_BACKWARD_MPH", "RETROTREAD_SAFETY__MAX_BACKWARD_MPH"),
        ("RETROTREAD_MQTT__PASWORD", "RETROTREAD_MQTT__PASSWORD"),
        ("RETROTREAD_DATADIR", "RETROTREAD_DATA_DIR"),
    ],
)
def test_an_unknown_retrotread_variable_is_refused_naming_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, closest: str
) -> None:
    monkeypatch.setenv(name, "2.0")
    assert refused() == f"environment {name}: names no setting; did you mean {closest}?"


def test_an_unknown_variable_never_repeats_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__PASSWD", "hunter2")
    assert "hunter2" not in refused()


def test_every_setting_and_the_data_dir_are_known_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names that the code, the tests, the benchmarks and the scripts use stay accepted."""
    for name, value in {
        "RETROTREAD_DATA_DIR": "/tmp/x",
        "RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "2.0",
        "RETROTREAD_DEVICE__CONNECT_TIMEOUT_S": "5",
        "RETROTREAD_MQTT__DISCOVERY": "false",
        "RETROTREAD_MQTT__USERNAME": "me",
        "RETROTREAD_SIM__TIME_SCALE": "250",
        "RETROTREAD_JOURNAL": '{"data_dir": "/tmp/y"}',
        "retrotread_mqtt__id": "lower",  # pydantic-settings ignores the case, so do we
    }.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.safety.max_backward_mph == 2.0
    assert s.sim.time_scale == 250.0
    assert s.mqtt.id == "lower"
    assert s.data_dir() == Path("/tmp/y")  # a RETROTREAD_JOURNAL object beats RETROTREAD_DATA_DIR


def test_a_section_that_is_not_json_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY", "{not json")
    message = refused()
    assert message.startswith("environment RETROTREAD_SAFETY: safety: must be a JSON object")


def test_a_secret_section_that_is_not_json_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT", "{password: hunter2")
    message = refused()
    assert message.startswith("environment RETROTREAD_MQTT: mqtt: must be a JSON object")
    assert "hunter2" not in message


def test_quirks_that_are_not_a_json_list_say_how_to_write_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_DEVICE__QUIRKS", "foo")
    message = refused()
    assert message.startswith(
        'environment RETROTREAD_DEVICE__QUIRKS: device.quirks = "foo": must be a JSON list such '
        'as ["request_control_rejected"]'
    )


def test_an_unknown_quirk_from_the_environment_is_blamed_on_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not on configs/default.toml, which holds `quirks = []`."""
    monkeypatch.setenv("RETROTREAD_DEVICE__QUIRKS", '["foo"]')
    message = refused()
    assert message.startswith('environment RETROTREAD_DEVICE__QUIRKS: device.quirks[0] = "foo"')


def test_a_value_inside_a_json_section_is_blamed_on_the_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY", '{"max_backward_mph": 3.5}')
    assert refused().startswith("environment RETROTREAD_SAFETY: safety.max_backward_mph = 3.5")


def test_settings_name_the_source_of_each_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", '[sim]\nprofile = "coarse-grid"\n')
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_STEP_MPH", "0.2")
    s = load_settings(path)
    assert s.source(("sim", "profile")) == f"config {path}"
    assert s.source(("safety", "max_step_mph")) == "environment RETROTREAD_SAFETY__MAX_STEP_MPH"
    assert s.source(("safety", "max_backward_mph")) == f"config {default_config_path()}"
    assert Settings().source(("sim", "profile")) == "default"


# --- strict types: a file's `true` is not 1.0 mph, its "yes" is not a bool ----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[safety]\nmax_backward_mph = true\n", "safety.max_backward_mph = true: must be a number"),
        ("[safety]\nmax_step_mph = false\n", "safety.max_step_mph = false: must be a number"),
        ("[safety]\nmax_heart_rate_bpm = true\n", "safety.max_heart_rate_bpm = true: must be"),
        ('[safety]\nmax_backward_mph = "2.0"\n', 'safety.max_backward_mph = "2.0": must be a'),
        ('[mqtt]\nenabled = "yes"\n', 'mqtt.enabled = "yes": must be true or false'),
        ("[mqtt]\ndiscovery = 1\n", "mqtt.discovery = 1: must be true or false"),
        ("[sim]\nprofile = 3\n", "sim.profile = 3: must be a string"),
        ('[device]\nquirks = "zero_packets"\n', 'device.quirks = "zero_packets": must be a list'),
    ],
)
def test_a_value_of_the_wrong_type_in_a_file_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "c.toml", text)
    assert expected in refused(path)


def test_environment_strings_are_still_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__ENABLED", "true")
    monkeypatch.setenv("RETROTREAD_MQTT__DISCOVERY", "false")
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "2.5")
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_HEART_RATE_BPM", "150")
    monkeypatch.setenv("RETROTREAD_MQTT__CA_FILE", "/etc/ca.pem")
    s = load_settings()
    assert s.mqtt.enabled is True
    assert s.mqtt.discovery is False
    assert s.safety.max_backward_mph == 2.5
    assert s.safety.max_heart_rate_bpm == 150
    assert s.mqtt.ca_file == Path("/etc/ca.pem")


def test_files_keep_their_natural_spellings(tmp_path: Path) -> None:
    """Whole numbers for floats, strings for paths, lists for tuples."""
    path = write(
        tmp_path / "c.toml",
        '[safety]\nmax_backward_mph = 2\n[device]\nquirks = ["zero_packets"]\n'
        '[journal]\ndata_dir = "/tmp/j"\n[mqtt]\nenabled = true\n',
    )
    s = load_settings(path)
    assert s.safety.max_backward_mph == 2.0
    assert s.device.quirks == ("zero_packets",)
    assert s.journal.data_dir == Path("/tmp/j")
    assert s.mqtt.enabled is True


def test_an_env_value_that_is_no_number_names_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "true")
    assert "must be a number within 0.5..3.0 mph" in refused()


# --- secrets are never echoed -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["passwd", "pasword", "api_key", "Token", "secret_word"])
def test_a_misspelled_secret_key_does_not_echo_its_value(tmp_path: Path, key: str) -> None:
    path = write(tmp_path / "c.toml", f'[mqtt]\n{key} = "hunter2"\n')
    message = refused(path)
    assert f"mqtt.{key} = ***: unknown key" in message
    assert "hunter2" not in message


def test_an_unknown_section_echoed_whole_hides_its_secrets(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[mqqt]\npassword = "hunter2"\nurl = "mqtt://b"\n')
    message = refused(path)
    assert "hunter2" not in message
    assert '"password": "***"' in message


# --- files that are no config: binary, huge, endless, blocking, deep ---------------------------


def test_a_config_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"[safety]\nmax_backward_mph = 2.0 # \xff\xfe\n")
    assert refused(path) == f"config {path}: not UTF-8 text (byte 34 is 0xff)"


def test_a_binary_config_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(bytes(range(256)) * 4)
    assert refused(path).startswith(f"config {path}: not UTF-8 text")


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
        "[" + ".".join(["a"] * 3000) + "]\n",
    ],
    ids=["arrays", "inline-tables", "dotted-tables"],
)
def test_a_config_nested_thousands_deep_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "c.toml", text)
    assert refused(path) == f"config {path}: nested more than 32 levels deep"


def test_a_config_larger_than_a_mebibyte_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "# padding\n" * 120_000)
    assert refused(path) == f"config {path}: larger than 1 MiB, too big for a config or plan"


def test_a_device_as_config_is_refused_without_reading_it() -> None:
    assert refused(Path("/dev/zero")) == (
        "config /dev/zero: not a regular file (a character device)"
    )


def test_a_fifo_as_config_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "c.toml"
    os.mkfifo(fifo)
    assert refused(fifo) == (f"config {fifo}: not a regular file (a pipe); save it to a file first")


# --- mqtt topics fit MQTT -----------------------------------------------------------------------


def test_an_mqtt_id_longer_than_a_topic_may_be_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", f'[mqtt]\nid = "{"a" * 70_000}"\n')
    message = refused(path)
    assert message.startswith(f'config {path}: mqtt.id = "aaaa')
    assert "topics are at most 65535 bytes" in message
    assert len(message) < 300


def test_a_base_topic_is_measured_in_utf8_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", f'[mqtt]\nbase_topic = "{"é" * 33_000}"\nid = "x"\n')
    assert "mqtt.base_topic" in refused(path)
    fits = write(tmp_path / "d.toml", f'[mqtt]\nbase_topic = "{"é" * 32_000}"\nid = "x"\n')
    assert load_settings(fits).mqtt.topic_base.endswith("/x")


def test_a_base_topic_with_undecodable_bytes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__BASE_TOPIC", "home/\udcff")
    assert "mqtt.base_topic" in refused()


@pytest.mark.parametrize("bad", ["a/b", "a+b", "a#", "a\u0000b"])
def test_an_mqtt_id_is_one_plain_topic_level(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__ID", bad.replace("\u0000", "-") if "\0" in bad else bad)
    if "\0" in bad:  # the environment cannot hold NUL: a file can
        return
    assert "mqtt.id" in refused()


# --- the simulator's time scale -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e-9", "0", "1e6", "inf", "nan"])
def test_the_configured_time_scale_is_bounded(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "c.toml", f"[sim]\ntime_scale = {value}\n")
    assert "must be within 0.001..100000" in refused(path)
