"""Make the debug text Bumble builds for every packet cheaper, without changing a character of it.

Bumble's hot paths (HCI on both sides of every controller, ATT on client and server) log with
``logger.debug(f"... {color(...)} {packet}")``: the f-string is built before ``logger.debug``
can see that DEBUG is off, so no logging configuration avoids it. The largest part of that work
is ``bumble.colors.color`` working out the same few ANSI codes again and again (~25 calls per
Treadmill Data notification; memoising it cut a simulated session's CPU time by ~17 %, a
`run --sim` of the intervals program by ~25 %).

``memoise_bumble_colors()`` rebinds the ``color`` name that Bumble's modules imported to a
memoised wrapper of the same function: same arguments, same text, a dictionary lookup instead.
The installed files stay untouched.

``shorten_quiet_packet_text()`` goes further: while a Bumble module's logger has DEBUG off, the
packets its f-strings format come out as their bare name, skipping the field-by-field text.

Both are applied by ``speedups.install()``, which first checks every Bumble attribute used here
(see ``speedups.BUMBLE_NEEDS``).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import bumble.att
import bumble.colors
import bumble.hci
import bumble.l2cap

# Field names, packet names and arrows: a few hundred distinct strings; payload text is rare.
_CACHE_SIZE = 4096

_original_color: Callable[..., str] = bumble.colors.color
# typed: color(1) and color(True) must not share an entry ("1" vs "True").
_cached_color: Callable[..., str] = functools.lru_cache(maxsize=_CACHE_SIZE, typed=True)(
    _original_color
)


def _memoised_color(*args: Any, **kwargs: Any) -> str:
    try:
        return _cached_color(*args, **kwargs)
    except TypeError:  # an unhashable argument: no caching, same result (or the same error)
        return _original_color(*args, **kwargs)


def memoise_bumble_colors() -> int:
    """Rebind ``color`` in every imported Bumble module that uses it; returns how many changed.

    Idempotent, and cheap enough to call whenever a radio starts (modules imported since the
    last call are covered then).
    """
    rebound = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("bumble.") or name == "bumble.colors" or module is None:
            continue
        namespace: dict[str, Any] = vars(module)
        if namespace.get("color") is _original_color:
            namespace["color"] = _memoised_color
            rebound += 1
    return rebound


# Packet classes whose text Bumble builds in f-strings on every packet (HCI on both sides of each
# controller, ATT on client and server). Subclasses inherit the hook.
_PACKET_CLASSES: tuple[type, ...] = (
    bumble.hci.HCI_Packet,
    bumble.att.ATT_PDU,
    bumble.l2cap.L2CAP_PDU,
)


# id(module globals) -> that Bumble module's logger; refreshed by shorten_quiet_packet_text().
_bumble_loggers: dict[int, logging.Logger] = {}


def _packet_format(packet: object, format_spec: str) -> str:
    """``format(packet, spec)``: the short name when the formatting module's logger is quiet.

    An f-string calls ``format()`` from the frame that holds it, so ``sys._getframe(1)`` is that
    frame and its module's ``logger`` is the one the text is (almost always) built for.
    Anything else — ``str(packet)``, ``repr``, a format spec, code outside Bumble, a Bumble
    module whose logger has DEBUG on — gets the full text, exactly as before.
    """
    if not format_spec:
        caller_logger = _bumble_loggers.get(id(sys._getframe(1).f_globals))
        if caller_logger is not None and not caller_logger.isEnabledFor(logging.DEBUG):
            return getattr(packet, "name", None) or type(packet).__name__
    return object.__format__(packet, format_spec)


def shorten_quiet_packet_text() -> None:
    """Let Bumble's f-strings format a packet as its bare name while DEBUG logging is off.

    Bumble formats every packet in full (all fields, colour codes, payload hex) before
    ``logger.debug`` can see that DEBUG is off: about a fifth of a simulated session's CPU time.
    With this hook a Bumble module whose logger is not enabled for DEBUG gets the packet's name
    instead (``ATT_Handle_Value_Notification``); the check runs on every call, so enabling DEBUG
    on ``bumble`` (or one of its modules) at any time brings the full text back at once.

    Trade-off: a *non-logging* f-string inside Bumble (an exception message naming a packet)
    also gets the short name while that module's DEBUG is off. ``str(packet)`` and ``repr`` are
    unaffected, and so are Bumble modules imported after the last call (full text). Installed on
    Bumble's classes for the whole process; idempotent, call it again to cover new modules.
    """
    for name, module in list(sys.modules.items()):
        if name.startswith("bumble.") and module is not None:
            module_logger = vars(module).get("logger")
            if isinstance(module_logger, logging.Logger):
                _bumble_loggers[id(vars(module))] = module_logger
    for cls in _PACKET_CLASSES:
        if "__format__" not in vars(cls):
            cls.__format__ = _packet_format  # type: ignore[method-assign,assignment]
