"""Make the debug text Bumble builds for every packet cheaper, without changing a character of it.

Bumble's hot paths (HCI on both sides of every controller, ATT on client and server) log with
``logger.debug(f"... {color(...)} {packet}")``: the f-string is built before ``logger.debug``
can see that DEBUG is off, so no logging configuration avoids it. The largest part of that work
is ``bumble.colors.color`` working out the same few ANSI codes again and again (~25 calls per
Treadmill Data notification; memoising it cut a simulated session's CPU time by ~17 %, a
`run --sim` of the intervals program by ~25 %).

``memoise_bumble_colors()`` rebinds the ``color`` name that Bumble's modules imported to a
memoised wrapper of the same function: same arguments, same text, a dictionary lookup instead.
The installed files stay untouched. The packet formatting itself still runs.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import bumble.colors

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
