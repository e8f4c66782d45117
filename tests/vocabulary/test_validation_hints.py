"""A misspelled key or a mistyped choice gets a "did you mean", matched against the keys the
model allows at that place (a section's, a list item's), never against some other table's."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from retrotread.validation import one_line
from tests.support.settings import refused, write


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_mph: float | None = None
    duration_s: float = 1.0


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: tuple[Item, ...] = ()
    turnaround_mode: str = "floor"


def line_for(data: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(data)
    return one_line(caught.value, "plan p.toml", model=Outer)


def test_a_key_inside_a_list_item_is_matched_against_the_item_keys() -> None:
    assert line_for({"items": [{}, {"target_mhp": 1.0}]}) == (
        "plan p.toml: items[1].target_mhp = 1.0: unknown key (did you mean target_mph?)"
    )


def test_a_top_level_key_is_matched_against_the_top_level_keys() -> None:
    assert line_for({"turnaround_mod": "pause"}) == (
        'plan p.toml: turnaround_mod = "pause": unknown key (did you mean turnaround_mode?)'
    )


def test_nothing_close_means_no_guess() -> None:
    assert line_for({"zzz": 1}) == "plan p.toml: zzz = 1: unknown key"


def test_without_the_model_the_line_is_as_before() -> None:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"turnaround_mod": "pause"})
    assert one_line(caught.value, "x") == 'x: turnaround_mod = "pause": unknown key'


def test_a_misspelled_config_key_and_section(tmp_path: Path) -> None:
    key = write(tmp_path / "c.toml", "[safety]\nmax_backwards_mph = 2.0\n")
    assert refused(key) == (
        f"config {key}: safety.max_backwards_mph = 2.0: unknown key "
        "(did you mean max_backward_mph?)"
    )
    section = write(tmp_path / "d.toml", '[dispaly]\nunits = "metric"\n')
    assert refused(section) == (
        f'config {section}: dispaly = {{"units": "metric"}}: unknown key (did you mean display?)'
    )


def test_a_mistyped_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metrc")
    assert refused() == (
        'environment RETROTREAD_DISPLAY__UNITS: display.units = "metrc": must be one of '
        "'imperial' or 'metric' (did you mean metric?)"
    )


def test_a_misspelled_secret_key_gets_a_guess_but_its_value_stays_hidden(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[mqtt]\npasword = "hunter2"\n')
    message = refused(path)
    assert message == f"config {path}: mqtt.pasword = ***: unknown key (did you mean password?)"
