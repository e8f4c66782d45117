"""Reading what a user points us at (config files, plans) without trusting it to be sane.

A path on the command line or in the environment can name anything: `/dev/zero` (an endless
read that eats memory), a FIFO (an open that blocks forever), a binary file, a TOML or JSON
document nested thousands deep (the parsers recurse until `RecursionError`), or a directory the
journal cannot be written in. Each of those must end as one `InputError` line (exit 2) before
anything connects, so every user-named file is read through here: opened without blocking,
refused unless it is a regular file, read up to a size cap, decoded as UTF-8 and, once parsed,
checked for depth.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from retrotread.errors import InputError

MAX_INPUT_BYTES = 1 << 20
"""A config or plan is a small hand-written text; 1 MiB is far beyond any real one."""

MAX_NESTING = 32
"""Configs are two levels deep and plans four; anything deeper is not ours, and refusing it
early keeps the parsers, the merge and the error formatter far from the recursion limit."""

Format = Literal["toml", "json", "toml-or-json"]
_FORMAT_NAMES: dict[Format, str] = {"toml": "TOML", "json": "JSON", "toml-or-json": "TOML or JSON"}


def check_regular_file(path: Path, source: str) -> None:
    """InputError unless `path` is (a link to) a regular file we may open; never blocks."""
    os.close(_open_regular(path, source))


def read_text(path: Path, source: str, limit: int = MAX_INPUT_BYTES) -> str:
    """The file's text: a regular file, at most `limit` bytes, UTF-8; InputError otherwise."""
    fd = _open_regular(path, source)
    try:
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # the file object owns it now
            data = handle.read(limit + 1)
    except OSError as err:
        raise InputError(f"{source}: cannot read: {err.strerror or err}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise InputError(f"{source}: larger than {_size(limit)}, too big for a config or plan")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{source}: not UTF-8 text (byte {err.start} is {data[err.start]:#04x})"
        ) from None


def parse(text: str, fmt: Format, source: str) -> dict[str, Any]:
    """A TOML or JSON document whose top level is a table / object, at most MAX_NESTING deep;
    "toml-or-json" takes whichever parses (TOML first)."""
    try:
        data = _load(text, fmt)
    except RecursionError:
        raise InputError(_too_deep(source)) from None
    except ValueError as err:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise InputError(f"{source}: invalid {_FORMAT_NAMES[fmt]}: {err}") from None
    if not isinstance(data, dict):
        raise InputError(f"{source}: invalid {_FORMAT_NAMES[fmt]}: the top level must be an object")
    check_depth(data, source)
    return data


def _load(text: str, fmt: Format) -> object:
    if fmt == "toml":
        return tomllib.loads(text)
    if fmt == "json":
        return json.loads(text)
    try:
        return tomllib.loads(text)
    except ValueError:
        return json.loads(text)


def check_depth(data: object, source: str, limit: int = MAX_NESTING) -> None:
    """InputError when tables / lists nest deeper than `limit`; iterative, so it cannot recurse."""
    pending: list[tuple[object, int]] = [(data, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, Mapping):
            children: list[object] = list(node.values())
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            continue
        if depth >= limit:
            raise InputError(_too_deep(source, limit))
        pending.extend((child, depth + 1) for child in children)


def ensure_writable_dir(path: Path, source: str) -> None:
    """Create `path` (and its parents) if needed and prove a file can be made in it.

    Asking `os.access` is not enough: root passes every permission check, yet cannot create
    anything under /proc or on a read-only mount. So this does what the journal will do, in a
    file that vanishes on close.
    """
    import tempfile  # only `run` needs it; every command checks its files through here

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        if isinstance(err, FileExistsError | NotADirectoryError):
            reason = "not a directory"
        raise InputError(f"{source}: cannot write sessions in {path}: {reason}") from None


def _open_regular(path: Path, source: str) -> int:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InputError(f"{source}: cannot read: {err.strerror or err}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as err:
        os.close(fd)
        raise InputError(f"{source}: cannot read: {err.strerror or err}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        hint = "; save it to a file first" if stat.S_ISFIFO(mode) else ""
        raise InputError(f"{source}: not a regular file ({_kind(mode)}){hint}")
    # Reads of a regular file never block; clearing the flag keeps that true on any platform.
    os.set_blocking(fd, True)
    return fd


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def _too_deep(source: str, limit: int = MAX_NESTING) -> str:
    return f"{source}: nested more than {limit} levels deep"
