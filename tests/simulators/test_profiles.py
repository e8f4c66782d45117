"""Device profiles: every built-in TOML loads, the SPEC ranges hold, errors are readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrotread.events import QuirkName
from retrotread.units import KMH_PER_MPH
from simulators.profiles import PROFILE_NAMES, ControlOp, GridSnap, load_profile


def test_generic_matches_the_spec() -> None:
    profile = load_profile("generic")
    assert (profile.speed.min_kmh, profile.speed.max_kmh, profile.speed.increment_kmh) == (
        0.5,
        20.0,
        0.01,
    )
    assert profile.incline is not None
    assert (profile.incline.min_pct, profile.incline.max_pct, profile.incline.increment_pct) == (
        0.0,
        15.0,
        0.5,
    )
    assert profile.quirks == frozenset()
    assert profile.data_interval_s == 1.0


def test_coarse_grid_matches_the_spec_and_has_no_incline() -> None:
    profile = load_profile("coarse-grid")
    assert (profile.speed.min_kmh, profile.speed.max_kmh, profile.speed.increment_kmh) == (
        0.8,
        16.0,
        0.1,
    )
    assert profile.incline is None
    assert not profile.supports(ControlOp.SET_TARGET_INCLINATION)


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_every_builtin_profile_loads_and_stops_faster_than_it_slows(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.belt.stop_decel_kmh_per_s > profile.belt.decel_kmh_per_s


def test_there_is_a_profile_for_each_quirk_design_md_requires() -> None:
    quirks = {quirk for name in PROFILE_NAMES for quirk in load_profile(name).quirks}
    assert {
        QuirkName.start_before_speed,
        QuirkName.ack_by_machine_status,
        QuirkName.request_control_rejected,
        QuirkName.stale_stop_on_subscribe,
        QuirkName.min_speed_1kmh,
        QuirkName.speed_param_mph,
        QuirkName.single_central,
    } <= quirks


def test_the_grid_and_lag_profiles_of_the_safety_properties() -> None:
    offset = load_profile("offset-grid")
    assert (offset.speed.min_kmh, offset.speed.max_kmh, offset.speed.increment_kmh) == (
        0.6,
        12.0,
        0.7,
    )
    assert offset.speed.snap is GridSnap.FROM_MINIMUM
    assert load_profile("offset-grid-multiples").speed.snap is GridSnap.MULTIPLE
    mph = load_profile("mph-coarse")
    assert mph.has(QuirkName.speed_param_mph)
    assert (mph.speed.min_kmh, mph.speed.max_kmh, mph.speed.increment_kmh) == (0.45, 12.0, 0.1)
    assert mph.belt_max_kmh == pytest.approx(12.0 * KMH_PER_MPH)
    assert load_profile("laggy").belt.command_lag_s == 2.0


def test_one_procedure_at_a_time_is_on_for_a_few_profiles_and_off_by_default() -> None:
    strict = {name for name in PROFILE_NAMES if load_profile(name).control.one_procedure_at_a_time}
    assert {"strict-procedure", "laggy"} <= strict
    assert "generic" not in strict
    assert all(load_profile(name).control.answer_delay_s > 0 for name in strict)


def test_snap_and_control_default_to_today_s_behaviour(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text("[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n")
    profile = load_profile(path)
    assert profile.speed.snap is GridSnap.MULTIPLE
    assert not profile.control.one_procedure_at_a_time
    assert profile.control.answer_delay_s == 0.0
    assert profile.belt_max_kmh == 9


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="generic") as caught:
        load_profile("nonesuch")
    assert "coarse-grid" in str(caught.value)


def test_a_profile_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'quirks = ["single_central"]\n[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n'
    )
    profile = load_profile(path)
    assert profile.name == "mine"
    assert profile.speed.max_kmh == 9
    assert profile.has(QuirkName.single_central)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[speed]\nmin_kmh = 5\nmax_kmh = 1\nincrement_kmh = 0.1\n", "below max"),
        ('quirks = ["flying"]\n[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n', "quirks"),
        ("[speed\n", "mine.toml"),
        ("colour = 3\n[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n", "colour"),
        (
            '[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\nsnap = "nearest"\n',
            "speed.snap",
        ),
        (
            "[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n"
            "[control]\none_procedure = true\n",
            "control.one_procedure",
        ),
        (
            "[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n"
            "[control]\nanswer_delay_s = -1\n",
            "control.answer_delay_s",
        ),
    ],
)
def test_bad_profile_files_name_the_problem(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint):
        load_profile(path)


def test_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gone\.toml"):
        load_profile(tmp_path / "gone.toml")
