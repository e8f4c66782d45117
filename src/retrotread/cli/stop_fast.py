"""`retrotread stop` without options: the standard-library-only entry.

Every import on this path delays the Stop that reaches the belt, so this module only hands the
plain `stop` to `retrotread.stop` (which loads nothing but the socket client) and prints what came
back; anything with options goes to typer.
"""

import sys

from retrotread import exit_codes, stop


def say(line: str, to_stderr: bool) -> None:
    """One line as `retrotread: ...`; flushed, so it is seen before the next channel is tried."""
    stream = sys.stderr if to_stderr else sys.stdout
    stream.write(f"retrotread: {line}\n")
    stream.flush()


def try_fast_stop(argv: list[str]) -> int | None:
    """Handle a plain `retrotread stop`; None hands anything with options to the typer app."""
    if argv:
        return None
    try:
        local = stop.stop_sessions()
    except KeyboardInterrupt:  # the requests already sent still stop their sessions
        say("interrupted", True)
        return exit_codes.INTERRUPTED
    for line, to_stderr in local.lines():
        say(line, to_stderr)
    return local.exit_code()
