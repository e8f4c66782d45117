"""Errors that end a command with a defined exit code and one readable line (SPEC.md exit codes)."""

from __future__ import annotations


class RetrotreadError(Exception):
    """A foreseeable failure: the CLI prints `str(err)` on one line and exits with `exit_code`."""

    exit_code = 1


class InputError(RetrotreadError, ValueError):
    """Bad plan, config value, hex string or flag. Nothing was started; exit 2."""

    exit_code = 2


class ConnectError(RetrotreadError):
    """No adapter, no treadmill, or control could not be taken; exit 4."""

    exit_code = 4
