"""Logging set-up: structlog over the standard library, always to stderr.

stdout belongs to command output and `--json` events, so logs never go there. Our own loggers and
the libraries' (bleak, bumble, aiomqtt log through stdlib `logging`) share one handler and one
format: readable on a terminal, one JSON object per line otherwise.

Logging never raises into the caller: a log call can sit inside the supervisor's stop procedure,
and a stderr whose reader went away (`retrotread run 2>&1 | head -2`) must not end a session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Literal

import structlog

LogFormatName = Literal["auto", "console", "json"]

_OUR_LOGGER = "retrotread"


def give_up_stream(stream: object) -> None:
    """Point a stream that failed (its reader went away) at /dev/null, for good.

    Whatever is written to it later (a last log line, an error line) and the interpreter's own
    flush of `sys.stdout` and `sys.stderr` at exit would fail again, and a failure there makes the
    interpreter exit non-zero, hiding the session's exit code. Once the descriptor is /dev/null
    those writes succeed, into nothing. A stream without a descriptor (a test's) is left alone."""
    fileno = getattr(stream, "fileno", None)
    if fileno is None:
        return
    try:
        fd = fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no descriptor, or the file object is closed already
        return
    try:
        os.dup2(devnull, fd)
    except OSError:
        pass
    finally:
        os.close(devnull)


class _StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is now, so a replaced stderr (tests, a live view) works.

    Never raises: `logging.Handler.handleError` would write to the same broken stderr and lets
    anything but OSError through (a closed file object raises ValueError), and the caller may be
    the belt's stop procedure. A stderr that cannot be written is given up for good."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a bad record: report it the standard way, if stderr still takes it
            with contextlib.suppress(Exception):
                self.handleError(record)
            return
        stream = sys.stderr
        if stream is None:  # Python's stderr when descriptor 2 was closed at start
            return
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):  # the reader went away, or the file object was closed
            give_up_stream(stream)


def _wants_json(fmt: str) -> bool:
    if fmt == "json":
        return True
    if fmt == "console":
        return False
    if fmt != "auto":
        raise ValueError(f"log format must be auto, console or json, not {fmt!r}")
    isatty = getattr(sys.stderr, "isatty", None)
    return not (callable(isatty) and isatty())


def configure_logging(fmt: str = "auto", verbose: int = 0) -> None:
    """Route every log record to stderr in one format; `verbose` 1 = our debug, 2 = libraries' too.

    Safe to call again (the previous handler is replaced), e.g. once at start-up with defaults and
    again when the options are known.
    """
    as_json = _wants_json(str(getattr(fmt, "value", fmt)))
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso" if as_json else "%H:%M:%S", utc=as_json),
    ]
    renderer: structlog.types.Processor
    if as_json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        isatty = getattr(sys.stderr, "isatty", None)
        # Plain tracebacks: rich's would print local variables, and those may hold secrets.
        renderer = structlog.dev.ConsoleRenderer(
            colors=callable(isatty) and bool(isatty()),
            exception_formatter=structlog.dev.plain_traceback,
        )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING)
    logging.getLogger(_OUR_LOGGER).setLevel(logging.DEBUG if verbose else logging.INFO)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
