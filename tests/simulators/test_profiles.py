"""Device profiles: every built-in TOML loads, the SPEC ranges hold, errors are readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.profiles import PROFILE_NAMES, ControlOp, Quirk, load_profile


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
        Quirk.START_BEFORE_SPEED,
        Quirk.ACK_BY_MACHINE_STATUS,
        Quirk.REQUEST_CONTROL_REJECTED,
        Quirk.STALE_STOP_ON_SUBSCRIBE,
        Quirk.MIN_SPEED_1KMH,
        Quirk.SPEED_PARAM_MPH,
        Quirk.SINGLE_CENTRAL,
    } <= quirks


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
    assert profile.has(Quirk.SINGLE_CENTRAL)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[speed]\nmin_kmh = 5\nmax_kmh = 1\nincrement_kmh = 0.1\n", "below max"),
        ('quirks = ["flying"]\n[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n', "quirks"),
        ("[speed\n", "mine.toml"),
        ("colour = 3\n[speed]\nmin_kmh = 1\nmax_kmh = 9\nincrement_kmh = 0.5\n", "colour"),
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
