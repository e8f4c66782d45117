"""[user]: optional walker data, range-checked like every setting, and the heart-rate limit the
supervisor enforces when [safety] leaves it unset (220 - age, SPEC.md "Set-up")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrotread.config import Settings, effective_settings, load_settings
from retrotread.errors import InputError
from retrotread.session.plan import Plan, Segment
from tests.support.settings import refused


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_user_section_is_empty_by_default() -> None:
    user = load_settings().user
    assert (user.name, user.weight_kg, user.age, user.max_heart_rate_bpm) == (None,) * 4
    assert load_settings().max_heart_rate_bpm() is None


def test_a_file_sets_every_user_field(tmp_path: Path) -> None:
    path = config(
        tmp_path, '[user]\nname = "Ana"\nweight_kg = 70\nage = 64\nmax_heart_rate_bpm = 150\n'
    )
    user = load_settings(path).user
    assert (user.name, user.weight_kg, user.age, user.max_heart_rate_bpm) == ("Ana", 70, 64, 150)


def test_environment_overrides_the_user_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_USER__AGE", "70")
    monkeypatch.setenv("RETROTREAD_USER__WEIGHT_KG", "81.5")
    monkeypatch.setenv("RETROTREAD_USER__NAME", "Bo")
    settings = load_settings(config(tmp_path, "[user]\nage = 40\n"))
    assert (settings.user.age, settings.user.weight_kg, settings.user.name) == (70, 81.5, "Bo")
    assert settings.source(("user", "age")) == "environment RETROTREAD_USER__AGE"


def test_a_misspelled_user_variable_is_refused_naming_the_real_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_USER__AEG", "70")
    message = refused()
    assert "RETROTREAD_USER__AEG: names no setting" in message
    assert "did you mean RETROTREAD_USER__AGE" in message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("weight_kg", "29", "30..250 kg"),
        ("weight_kg", "251", "30..250 kg"),
        ("age", "9", "10..110 years"),
        ("age", "111", "10..110 years"),
        ("age", "64.5", "10..110 years"),
        ("max_heart_rate_bpm", "59", "60..220 bpm"),
        ("max_heart_rate_bpm", "221", "60..220 bpm"),
        ("max_heart_rate_bpm", "true", "60..220 bpm"),
    ],
)
def test_a_user_value_out_of_range_is_one_line_naming_key_source_and_range(
    tmp_path: Path, key: str, value: str, allowed: str
) -> None:
    path = config(tmp_path, f"[user]\n{key} = {value}\n")
    message = refused(path)
    assert f"config {path}" in message
    assert f"user.{key} = {value}" in message
    assert allowed in message


def test_an_out_of_range_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETROTREAD_USER__AGE", "200")
    message = refused()
    assert message.startswith("environment RETROTREAD_USER__AGE: ")
    assert "user.age" in message
    assert "10..110 years" in message


@pytest.mark.parametrize(
    ("text", "limit", "name"),
    [
        ("", None, "safety.max_heart_rate_bpm"),
        ("[user]\nage = 60\n", 160, "220 - user.age"),
        ("[user]\nage = 60\nmax_heart_rate_bpm = 150\n", 150, "user.max_heart_rate_bpm"),
        ("[user]\nmax_heart_rate_bpm = 150\n", 150, "user.max_heart_rate_bpm"),
        (
            "[safety]\nmax_heart_rate_bpm = 140\n[user]\nage = 60\nmax_heart_rate_bpm = 150\n",
            140,
            "safety.max_heart_rate_bpm",
        ),
        (
            "[safety]\nmax_heart_rate_bpm = 140\n[user]\nage = 30\n",
            140,
            "safety.max_heart_rate_bpm",
        ),
        ('[user]\nname = "Ana"\nweight_kg = 70\n', None, "safety.max_heart_rate_bpm"),
    ],
)
def test_the_heart_rate_limit_resolves_safety_then_user_then_age(
    tmp_path: Path, text: str, limit: int | None, name: str
) -> None:
    settings = load_settings(config(tmp_path, text))
    assert settings.max_heart_rate_bpm() == limit
    assert settings.max_heart_rate_name() == name
    safety = settings.session_safety()
    assert safety.max_heart_rate_bpm == limit
    # Everything else in [safety] is what was configured.
    assert safety.model_dump(exclude={"max_heart_rate_bpm"}) == settings.safety.model_dump(
        exclude={"max_heart_rate_bpm"}
    )


@pytest.mark.parametrize("age", [10, 110])
def test_an_age_derived_limit_stays_inside_the_safety_range(age: int) -> None:
    limit = Settings(user={"age": age}).max_heart_rate_bpm()
    assert limit is not None
    assert 60 <= limit <= 220


def test_a_zone_above_an_age_derived_limit_is_refused_naming_where_it_came_from(
    tmp_path: Path,
) -> None:
    settings = load_settings(config(tmp_path, "[user]\nage = 70\n"))
    plan = Plan(
        name="p",
        segments=(
            Segment(
                name="zone", duration_s=60, min_mph=1.0, max_mph=2.0, hr_min_bpm=140, hr_max_bpm=155
            ),
        ),
    )
    with pytest.raises(InputError) as caught:
        plan.check_against(
            settings.session_safety(), heart_rate_limit_name=settings.max_heart_rate_name()
        )
    assert str(caught.value) == (
        "plan p: segments[0].hr_max_bpm = 155: must be <= 220 - user.age (150 bpm)"
    )


def test_config_json_shows_the_user_section(tmp_path: Path) -> None:
    path = config(tmp_path, "[user]\nage = 64\n")
    report = effective_settings(load_settings(path))
    assert report["user"]["age"] == {"value": 64, "source": f"file {path}"}
    assert report["user"]["name"] == {"value": None, "source": "default"}
    json.dumps(report)  # what `config --json` prints
