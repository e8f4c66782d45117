"""`python -m simulators serve`: input errors and an unreachable controller (no radio in CI)."""

from __future__ import annotations

import pytest

from simulators.__main__ import main


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["serve", "--profile", "nonesuch"], "unknown simulator profile"),
        (["serve", "--fault", "warp@1"], "unknown kind"),
        (["serve", "--name", "A name far too long"], "31-byte"),
        (["serve", "--address", "zz"], "--address 'zz': expected a random static address"),
        (["serve", "--address", "12:34:56:78:9A:BC"], "F0:52:54:52:44:01"),
        (["serve", "--address", "F0:52:54:52:44"], "six hex bytes"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert complaint in err
    assert err.count("\n") == 1


def test_a_controller_that_cannot_be_opened_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--transport", "tcp-client:127.0.0.1:1"]) == 4
    assert "cannot open transport" in capsys.readouterr().err
