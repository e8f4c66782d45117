"""Where control sockets live, and when one is stale: rules shared by the session and by `stop`.

Only `os`, `sys` (both loaded with the interpreter) and the `_socket` C module are imported,
because `retrotread stop` loads this module before its request is out and every import there
delays the Stop. A session serves only in a
directory only this user can enter: anyone who can create a socket in it could impersonate a
session and swallow an emergency stop, or remove the session's socket.

A session serves in one directory (`control_dir`), but `stop` searches every place a session of
this user may have chosen (`search_dirs`): the shell typing `stop` may have another
`$XDG_RUNTIME_DIR` (or none) than the one that started the session.
"""

import _socket
import os
import sys

SOCKET_SUFFIX = ".sock"
_SUBDIR = "retrotread"
_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFSOCK = 0o140000


SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes including the final NUL
_NAME_ALLOWANCE = 40  # "<session id>.sock"; session ids are about 21 characters

ACK_TIMEOUT_S = 5.0
"""How long a session waits for the treadmill to acknowledge a Stop before answering without."""
CLIENT_WAIT_S = ACK_TIMEOUT_S + 1.0
"""How long `stop` waits for answers: past the session's own timeout, so it hears that answer."""

RUN_USER_ROOT = "/run/user"
"""Where pam_systemd puts each user's runtime dir: searched even when `$XDG_RUNTIME_DIR` is unset
or points elsewhere (sudo, ssh without a login session, a sandbox)."""
TEMP_ROOT = "/tmp"
"""The temp dir of last resort, searched whatever `$TMPDIR` says."""

STALE_ERRORS = (ConnectionRefusedError, FileNotFoundError)
"""What connecting to the socket of a session that is gone raises (nobody listens on it)."""


def fits_socket_path(path: str) -> bool:
    """`path` can be bound as a Unix socket (sun_path is short)."""
    return len(os.fsencode(path)) <= SUN_PATH_MAX


def _fits(directory: str) -> bool:
    """A socket in `directory` can be bound: else the session would run unreachable by `stop`."""
    return fits_socket_path(os.path.join(directory, "x" * _NAME_ALLOWANCE))


def control_dir() -> str:
    """The directory of this user's control sockets (it may not exist yet).

    `$XDG_RUNTIME_DIR/retrotread` when the runtime dir is set, private to us and short enough
    for a socket path, else `<temp dir>/retrotread-<uid>` (`/tmp` when $TMPDIR is unusable).
    Session and `stop` both ask this function, so they always agree.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime) and private_dir_problem(runtime) is None:
        candidate = os.path.join(runtime, _SUBDIR)
        if _fits(candidate):
            return candidate
    leaf = f"{_SUBDIR}-{os.getuid()}"
    temp = os.environ.get("TMPDIR", "")
    if temp and os.path.isabs(temp) and os.path.isdir(temp) and _fits(os.path.join(temp, leaf)):
        return os.path.join(temp, leaf)
    return os.path.join(TEMP_ROOT, leaf)


def search_dirs() -> list[str]:
    """Every directory a session of this user may serve its socket in, in search order.

    `$XDG_RUNTIME_DIR/retrotread`, `/run/user/<uid>/retrotread`, `$TMPDIR/retrotread-<uid>` and
    `/tmp/retrotread-<uid>`: a superset of every answer `control_dir` can give in any environment
    of this user that keeps the standard places, so `stop` finds a session started from a shell
    with another (or no) `$XDG_RUNTIME_DIR` or `$TMPDIR`. Duplicates by path are dropped; the
    same directory reached through a symlinked runtime dir is the caller's to skip (by inode).
    """
    uid = os.getuid()
    leaf = f"{_SUBDIR}-{uid}"
    candidates = []
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        candidates.append(os.path.join(runtime, _SUBDIR))
    candidates.append(os.path.join(RUN_USER_ROOT, str(uid), _SUBDIR))
    temp = os.environ.get("TMPDIR", "")
    if temp and os.path.isabs(temp):
        candidates.append(os.path.join(temp, leaf))
    candidates.append(os.path.join(TEMP_ROOT, leaf))
    found: list[str] = []
    for candidate in candidates:
        normal = os.path.normpath(candidate)
        if normal not in found:
            found.append(normal)
    return found


def private_dir_problem(path: str) -> str | None:
    """Why `path` is not a directory only we can enter, or None when it is.

    Uses lstat so that a symlink planted in a shared temp dir is refused rather than followed.
    """
    try:
        st = os.lstat(path)
    except OSError as err:
        return f"{path}: {err.strerror}"
    if st.st_mode & _S_IFMT != _S_IFDIR:
        return f"{path} is not a directory"
    if st.st_uid != os.getuid():
        return f"{path} is owned by uid {st.st_uid}, not by this user (uid {os.getuid()})"
    if st.st_mode & 0o077:
        return f"{path} is accessible to other users (mode {st.st_mode & 0o777:o}; expected 700)"
    return None


def private_dir_fix(path: str) -> str:
    """What the person can do about `private_dir_problem(path)`, as one clause for an error line."""
    try:
        st = os.lstat(path)
    except OSError:
        return f"check that {os.path.dirname(path)} exists and is writable by this user"
    if st.st_mode & _S_IFMT != _S_IFDIR:
        return f"remove it (rm {path}); retrotread then creates the directory with mode 700"
    if st.st_uid != os.getuid():
        return (
            f"have it removed (rm -r {path}, as uid {st.st_uid} or root), or set"
            " XDG_RUNTIME_DIR to a directory only you can enter"
        )
    return f"chmod 700 {path}"


def refusal(path: str) -> str | None:
    """`private_dir_problem(path)` and its fix in one line, or None when `path` is private."""
    problem = private_dir_problem(path)
    if problem is None:
        return None
    return f"{problem}; fix: {private_dir_fix(path)}"


def ensure_control_dir() -> str:
    """Create the control directory (mode 700) if needed and return it; raise if it is not private.

    Raises PermissionError naming the problem and its fix, so the caller can report it in one
    line; an OSError from creating it (a read-only or missing parent) propagates as it is.
    """
    path = control_dir()
    try:  # noqa: SIM105 (contextlib would cost the stop path an import)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    why = refusal(path)
    if why is not None:
        raise PermissionError(f"refusing control socket directory: {why}")
    return path


def socket_path(directory: str, session_id: str) -> str:
    return os.path.join(directory, session_id + SOCKET_SUFFIX)


def session_sockets(directory: str) -> list[str]:
    """Paths of the sockets in `directory` (sorted; empty if the directory is missing)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        if not name.endswith(SOCKET_SUFFIX):
            continue
        path = os.path.join(directory, name)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue
        if mode & _S_IFMT == _S_IFSOCK:
            found.append(path)
    return found


def session_id_of(path: str) -> str:
    return os.path.basename(path)[: -len(SOCKET_SUFFIX)]


def is_stale(path: str) -> bool:
    """True when nothing listens on the socket at `path` (its session crashed)."""
    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(path)
    except STALE_ERRORS:
        return True
    except BlockingIOError:
        return False  # backlog full: somebody is listening
    finally:
        probe.close()
    return False


def peer_uid(sock: _socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket (SO_PEERCRED).

    For a server that is the client's uid; for a client, the uid of the process that listens.
    Decoded by hand (struct ucred is three native ints) because `struct` would cost the stop
    path an import.
    """
    try:
        raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    except OSError:
        return None
    return int.from_bytes(raw[4:8], sys.byteorder)


def unlink_stale(path: str) -> bool:
    """Remove a socket found stale; False when it was already gone (someone else removed it)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def remove_stale_sockets(directory: str) -> list[str]:
    """Unlink the sockets in `directory` that nobody listens on; return their paths."""
    return [path for path in session_sockets(directory) if is_stale(path) and unlink_stale(path)]
