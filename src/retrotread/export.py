"""`retrotread export SESSION --format fit|tcx|csv -o FILE` and `plot SESSION -o FILE.png`:
one past session written as a file.

SESSION is resolved as everywhere (`history.store.resolve_journal`: an id, a unique prefix, or
`last`; anything else exit 2). The journal is read leniently (`history.store.read_session`): a
journal cut off by a crash exports what it holds, and one with a damaged line exports the rest
with a warning. The file is a pure function of the journal (`history.export`, `history.plot`)
plus two settings: the walker's weight for the energy estimate, `[display] units` for the plot.

Writing is atomic: the bytes go to a temporary file beside the target, which is then renamed
over it, so a reader (a sync folder, an uploader watching the directory) never sees half a file
and a failed write leaves an existing file as it was. `-o -` writes to stdout instead (not a
binary format to a terminal). An output that cannot be written is a bad `-o` (exit 2, one line).

`-o` is always given (SPEC.md): nothing is written into whatever directory the shell is in. A
file name must end in its format's suffix (`.fit`, `.tcx`, `.csv`, `.png`, in any case): an
uploader (Strava, Garmin Connect) and a file manager go by the suffix, so a FIT file named
`walk.tcx` or a PNG named `plot.txt` would be misread. A directory gets `<session>.<format>`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from retrotread.errors import InputError
from retrotread.history.export import FORMATS
from retrotread.history.store import damage_warning, read_session, resolve_journal, row_of

if TYPE_CHECKING:
    from retrotread.config import Settings
    from retrotread.history.record import SessionLog

STDOUT = "-"
OUTPUT_OPTION = "-o"
FORMAT_OPTION = "--format"
FORMAT_NAMES = {"fit": "FIT", "tcx": "TCX", "csv": "CSV", "png": "PNG"}
_BINARY = ("fit", "png")


@dataclass(frozen=True)
class Written:
    """What a command wrote: the session, where to (None: stdout), the format and its size."""

    session: str
    path: Path | None
    fmt: str
    size: int
    complete: bool  # the journal held the session's summary (else: cut off, exported as is)
    warnings: list[str] = field(default_factory=list)


def export_session(
    config_file: Path | None,
    ref: str,
    fmt: str,
    output: str,
    *,
    stdout: IO[bytes] | None = None,
    stdout_is_terminal: bool = False,
) -> Written:
    """Write SESSION as `fmt` to `output` (a file named `*.<fmt>`; a directory:
    `<session id>.<fmt>` in it; `-`: `stdout`)."""
    if fmt not in FORMATS:
        raise InputError(f"{FORMAT_OPTION} {fmt!r}: must be one of {', '.join(FORMATS)}")
    check_output(fmt, output)
    settings = _settings(config_file)
    log, warnings = _read(settings, ref)
    data = _render(fmt, log, settings)
    return _deliver(log, fmt, data, output, warnings, stdout, stdout_is_terminal)


def plot_session(
    config_file: Path | None,
    ref: str,
    output: str,
    *,
    stdout: IO[bytes] | None = None,
    stdout_is_terminal: bool = False,
) -> Written:
    """Draw SESSION as a PNG to `output` (a file named `*.png`; a directory:
    `<session id>.png` in it; `-`: `stdout`)."""
    from retrotread.history.plot import png_bytes

    check_output("png", output)
    settings = _settings(config_file)
    log, warnings = _read(settings, ref)
    data = png_bytes(log, units=settings.display.units)
    return _deliver(log, "png", data, output, warnings, stdout, stdout_is_terminal)


def _render(fmt: str, log: SessionLog, settings: Settings) -> bytes:
    weight = settings.user.weight_kg
    renderers: dict[str, Callable[[], bytes]] = {
        "fit": lambda: _fit(log, weight),
        "tcx": lambda: _tcx(log, weight),
        "csv": lambda: _csv(log),
    }
    return renderers[fmt]()


def _fit(log: SessionLog, weight_kg: float | None) -> bytes:
    from retrotread.history.export.fit import fit_bytes

    return fit_bytes(log, weight_kg=weight_kg, version=version())


def _tcx(log: SessionLog, weight_kg: float | None) -> bytes:
    from retrotread.history.export.tcx import tcx_bytes

    return tcx_bytes(log, weight_kg=weight_kg, version=version())


def _csv(log: SessionLog) -> bytes:
    from retrotread.history.export.csv import csv_bytes

    return csv_bytes(log)


def version() -> tuple[int, int]:
    """retrotread's (major, minor), for the files' creator fields; (0, 0) when not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        parts = installed("retrotread").split(".")
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (PackageNotFoundError, ValueError):
        return (0, 0)


def _deliver(
    log: SessionLog,
    fmt: str,
    data: bytes,
    output: str,
    warnings: list[str],
    stdout: IO[bytes] | None,
    stdout_is_terminal: bool,
) -> Written:
    if output == STDOUT:
        if stdout is None:
            raise InputError(f"{OUTPUT_OPTION} -: no standard output to write to")
        if fmt in _BINARY and stdout_is_terminal:
            raise InputError(
                f"{OUTPUT_OPTION} -: {FORMAT_NAMES[fmt]} is binary; redirect stdout to a file "
                "or give a file name"
            )
        try:
            stdout.write(data)
            stdout.flush()
        except OSError as err:  # a closed pipe: say so on one line
            raise InputError(
                f"{OUTPUT_OPTION} -: cannot write to stdout ({_reason(err)})"
            ) from None
        return Written(log.id, None, fmt, len(data), log.complete, warnings)
    path = output_path(log.id, fmt, output)
    write_atomically(path, data, f"{OUTPUT_OPTION} {output}")
    return Written(log.id, path, fmt, len(data), log.complete, warnings)


def check_output(fmt: str, output: str) -> None:
    """Refuse an `-o` that is empty or a file name without `fmt`'s suffix (module docstring):
    before the journal is read, so nothing is rendered for a name that is refused."""
    suffix = f".{fmt}"
    allowed = f"a file name ending in {suffix}, a directory, or - for stdout"
    if output == "":
        raise InputError(f"{OUTPUT_OPTION} '': give {allowed}")
    if output == STDOUT:
        return
    path = Path(output).expanduser()
    if not path.is_dir() and path.suffix.lower() != suffix:
        raise InputError(f"{OUTPUT_OPTION} {output}: a {FORMAT_NAMES[fmt]} file needs {allowed}")


def output_path(session: str, fmt: str, output: str) -> Path:
    """Where `-o` points: the file itself, or `<session>.<fmt>` in a directory."""
    check_output(fmt, output)
    path = Path(output).expanduser()
    return path / f"{session}.{fmt}" if path.is_dir() else path


def write_atomically(path: Path, data: bytes, source: str) -> None:
    """`data` into `path` all at once: a temporary file in the same directory, flushed to disk,
    renamed over `path`. InputError (one line) when the directory is missing or not
    writable; nothing is left behind."""
    directory = path.parent
    if not directory.is_dir():
        raise InputError(f"{source}: cannot write {path}: no directory {directory}")
    temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        # 0o666 less the umask, as any new file: not mkstemp's 0o600, for a file meant to be
        # shared (uploaded, synced, sent).
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise InputError(f"{source}: cannot write {path} ({_reason(err)})") from None


def _read(settings: Settings, ref: str) -> tuple[SessionLog, list[str]]:
    path = resolve_journal(settings.data_dir(), ref)
    try:
        log, bad_lines = read_session(path)
    except OSError as err:
        raise InputError(f"journal {path} cannot be read ({_reason(err)})") from None
    warnings = [damage_warning([row_of(log, path, bad_lines)])] if bad_lines else []
    if not log.samples:
        warnings.append(f"session {log.id} has no telemetry: the file holds no samples")
    return log, warnings


def _settings(config_file: Path | None) -> Settings:
    from retrotread.config import load_settings

    return load_settings(config_file)


def _reason(err: OSError) -> str:
    if isinstance(err, IsADirectoryError):
        return "it is a directory"
    return err.strerror or str(err)
