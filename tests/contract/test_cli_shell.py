"""The command line behaves like a native tool: help, version, completion, options anywhere.

SPEC's synopsis is `retrotread [--config FILE] [--log-format console|json] [-v] COMMAND ...`; the
same options are accepted after the command too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.metadata import version

import pytest

from tests.support.cli import CONSOLE_SCRIPT, FAST, RunScript, Sandbox

# --- help and version ---------------------------------------------------------------------------


def test_bare_retrotread_prints_the_help_and_exits_0(retrotread: RunScript) -> None:
    bare = retrotread()
    assert bare.code == 0
    assert bare.err == ""
    assert bare.out.startswith("Usage: retrotread [OPTIONS] COMMAND [ARGS]...")
    assert bare.out == retrotread("--help").out


@pytest.mark.parametrize("command", [[], ["run"], ["decode"], ["stop"], ["programs"]], ids=str)
def test_dash_h_is_help_everywhere(retrotread: RunScript, command: list[str]) -> None:
    short = retrotread(*command, "-h")
    assert short.code == 0, short.err
    assert short.out == retrotread(*command, "--help").out
    assert short.out.startswith(f"Usage: retrotread {' '.join(command)}".rstrip())
    assert "-h, --help" in short.out


def test_version_comes_from_the_package_metadata(retrotread: RunScript) -> None:
    result = retrotread("--version")
    assert result.code == 0
    assert result.out == f"retrotread {version('retrotread')}\n"
    assert result.err == ""


def test_version_after_other_global_options(retrotread: RunScript) -> None:
    result = retrotread("-v", "--version")
    assert result.code == 0
    assert result.out == f"retrotread {version('retrotread')}\n"
    assert "--version" in retrotread("--help").out


# --- shell completion ---------------------------------------------------------------------------


def test_show_completion_prints_a_script_for_the_shell_in_use(sandbox: Sandbox) -> None:
    """Through a real bash, as a person types it: typer detects the shell it runs under."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    done = subprocess.run(
        [bash, "-c", f"'{CONSOLE_SCRIPT}' --show-completion"],
        capture_output=True,
        text=True,
        env=sandbox.env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "_RETROTREAD_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F _retrotread_completion retrotread" in done.stdout


def complete(sandbox: Sandbox, words: str, shell: str = "bash") -> list[str]:
    """What the installed completion script gets back for the command line `words`."""
    env = {
        **sandbox.env,
        "_RETROTREAD_COMPLETE": f"complete_{shell}",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        "_TYPER_COMPLETE_ARGS": words,
    }
    done = subprocess.run(
        [str(CONSOLE_SCRIPT)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_completion_offers_commands_and_their_options(sandbox: Sandbox) -> None:
    assert complete(sandbox, "retrotread de") == ["decode"]
    assert set(complete(sandbox, "retrotread run --si")) == {
        "--sim",
        "--sim-profile",
        "--sim-fault",
        "--sim-hr-strap",
        "--sim-wire-log",
    }


# --- global options before and after the command ------------------------------------------------


def test_global_options_after_the_command_are_accepted(cli: RunScript) -> None:
    result = cli("decode", "control-point", "08:01", "-v", "--log-format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"opcode": "stop_or_pause", "control": "stop"}
    bad = cli("programs", "--log-format", "xml")
    assert bad.code == 2
    assert "--log-format" in bad.error_line()


def test_config_after_the_command_is_checked(cli: RunScript, sandbox: Sandbox) -> None:
    result = cli("programs", "--config", str(sandbox.root))
    assert result.code == 2
    assert result.error_line().startswith(
        f"retrotread: error: --config {sandbox.root}: not a regular file"
    )


def test_config_after_the_command_is_the_one_read(cli: RunScript, sandbox: Sandbox) -> None:
    config = sandbox.plan('[sim]\nprofile = "coarse-grid"\n', name="config.toml")
    result = cli("info", "--sim", "--json", "--config", str(config))
    assert result.code == 0, result.err
    assert json.loads(result.out)["speed_range_kmh"] == [0.8, 16.0, 0.1]


def debug_lines(err: str) -> list[dict[str, object]]:
    """The JSON log records at debug level on stderr (the human lines are left out)."""
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [record for record in records if record.get("level") == "debug"]


def test_verbose_after_the_command_shows_debug_logs(cli: RunScript) -> None:
    quiet = cli("run", "--sim", *FAST, "--log-format", "json")
    assert quiet.code == 0, quiet.err
    assert debug_lines(quiet.err) == []
    verbose = cli("run", "--sim", *FAST, "--log-format", "json", "-v")
    assert verbose.code == 0, verbose.err
    loggers = {record["logger"] for record in debug_lines(verbose.err)}
    assert loggers
    assert all(str(name).startswith("retrotread") for name in loggers)


def test_verbose_before_and_after_the_command_add_up(cli: RunScript) -> None:
    """`-v` once shows our debug logs; once before and once after is `-vv`: libraries' too."""
    result = cli("--log-format", "json", "-v", "run", "--sim", *FAST, "-v")
    assert result.code == 0, result.err
    loggers = {str(record["logger"]) for record in debug_lines(result.err)}
    assert any(not name.startswith("retrotread") for name in loggers), loggers


def test_log_format_after_the_command_wins(cli: RunScript) -> None:
    result = cli("--log-format", "json", "run", "--sim", *FAST, "-v", "--log-format", "console")
    assert result.code == 0, result.err
    assert "[debug" in result.err
    assert debug_lines(result.err) == []


def test_the_console_script_takes_options_after_the_command(retrotread: RunScript) -> None:
    result = retrotread("programs", "-v", "--log-format", "console")
    assert result.code == 0, result.err
    assert "first-steps" in result.out
