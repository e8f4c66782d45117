"""`programs` reads `[display] units` without the settings model (it must start without
pydantic): its reading equals `load_settings`' in every case, and what it cannot read plainly
goes through `load_settings`, errors included. Program names get a "did you mean" too."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrotread.config import load_settings
from retrotread.errors import InputError
from retrotread.session.programs import display_units, load_program, program_or_plan
from tests.support.settings import clean_environment


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg-config" / "retrotread" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def given_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str | None, env: dict[str, str]
) -> None:
    """The user's config file (none when `user` is None) and environment variables."""
    if user is not None:
        user_file(tmp_path, user)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


METRIC = '[display]\nunits = "metric"\n'
IMPERIAL = '[display]\nunits = "imperial"\n'


@pytest.mark.parametrize(
    ("user", "given", "env", "expected"),
    [
        (None, None, {}, "imperial"),
        (METRIC, None, {}, "metric"),
        ("[safety]\nmax_backward_mph = 2.0\n", None, {}, "imperial"),
        (IMPERIAL, METRIC, {}, "metric"),  # --config replaces the user's file
        (METRIC, '[cues]\nmode = "off"\n', {}, "imperial"),
        (IMPERIAL, None, {"RETROTREAD_DISPLAY__UNITS": "metric"}, "metric"),
        (METRIC, None, {"RETROTREAD_DISPLAY__UNITS": ""}, "metric"),  # empty: not set
        (None, None, {"RETROTREAD_DISPLAY": '{"units": "metric"}'}, "metric"),
        (METRIC, None, {"RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "2.0"}, "metric"),
        (None, None, {"retrotread_display__units": "metric"}, "metric"),
    ],
)
def test_the_quick_reading_equals_the_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str | None,
    given: str | None,
    env: dict[str, str],
    expected: str,
) -> None:
    given_user(tmp_path, monkeypatch, user, env)
    config = None
    if given is not None:
        config = tmp_path / "given.toml"
        config.write_text(given, encoding="utf-8")
    assert display_units(config) == expected
    assert load_settings(config).display.units == expected


@pytest.mark.parametrize(
    ("user", "env", "named"),
    [
        (None, {"RETROTREAD_DISPLAY__UNITS": "metrc"}, "RETROTREAD_DISPLAY__UNITS"),
        ('[display]\nunits = "furlongs"\n', {}, "display.units"),
        ("[display\n", {}, "config.toml"),
        (None, {"RETROTREAD_DISPLY__UNITS": "metric"}, "RETROTREAD_DISPLY__UNITS"),
    ],
)
def test_what_it_cannot_read_plainly_is_refused_as_the_settings_refuse_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str | None,
    env: dict[str, str],
    named: str,
) -> None:
    given_user(tmp_path, monkeypatch, user, env)
    with pytest.raises(InputError, match=named):
        display_units()


def test_a_misspelled_program_name_gets_a_guess() -> None:
    with pytest.raises(InputError) as caught:
        load_program("firts-steps")
    assert str(caught.value) == (
        "unknown program 'firts-steps' (did you mean first-steps?); built-in programs: "
        "first-steps, cooldown, intervals, rehab, athletic"
    )
    with pytest.raises(InputError, match=r"'interval' \(did you mean intervals\?\); "):
        program_or_plan("interval")
