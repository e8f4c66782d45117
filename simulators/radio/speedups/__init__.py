"""Speed-ups that reach into Bumble's classes, enabled only by ``install()`` after checking them.

A simulated session spends a large share of its CPU time in two places that only parts of
Bumble outside its public API can make cheaper (each module gives its measured share):

- ``hci``: between a host and its in-process controller, ACL data and the completion events that
  answer it travel as packet objects instead of bytes that are encoded and parsed again;
- ``debug_text``: the debug text Bumble builds for every packet, logged or not, gets cheaper
  (memoised colour codes, and a packet's bare name while its module's DEBUG logging is off).

Both step aside while DEBUG logging is on for the Bumble module concerned, so logs and captures
stay exactly Bumble's own.

Why a check first: if Bumble renamed or reshaped one of those attributes, nothing would fail
where it could be seen. A packet handed to a method that is gone raises inside a loop callback,
the loop logs it, the packet is lost, and the session waits for an answer that never comes: a
timeout, far from the cause. ``install()`` therefore looks up everything in ``BUMBLE_NEEDS``
(names, and cheap shapes: call signatures, properties, dataclasses, loggers) and raises
``IncompatibleBumbleError`` naming each attribute that is missing or reshaped, and the Bumble
version the speed-ups were written against, before it enables anything.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bumble.controller import Controller
from bumble.host import Host

# The Bumble release these speed-ups were written and measured against; pyproject.toml pins it.
PINNED_BUMBLE: Final = "0.0.236"

_THIS_PACKAGE: Final = __name__


class IncompatibleBumbleError(RuntimeError):
    """The installed Bumble lacks (or reshaped) an attribute a speed-up relies on."""


@dataclass(frozen=True)
class Speedups:
    """What the virtual radio builds its devices from once the speed-ups are installed."""

    controller: type[Controller]
    host: Callable[[Controller], Host]


Shape = Callable[[object], str | None]

_MISSING: Final = object()


@dataclass(frozen=True)
class Need:
    """One attribute a speed-up takes from Bumble, and the shape it must have.

    ``path`` is dotted below ``module`` (``Host.send_hci_packet``). With ``on_instance`` the
    last name is looked up on a throwaway instance of the class before it, built without
    arguments: attributes Bumble sets in ``__init__`` exist on no class.
    """

    module: str
    path: str
    shape: Shape
    on_instance: bool = False

    @property
    def name(self) -> str:
        return f"{self.module}.{self.path}"

    def problem(self) -> str | None:
        """What is wrong with the attribute (missing, or the wrong shape), or None."""
        try:
            target: object = importlib.import_module(self.module)
        except ImportError:
            return "its module cannot be imported"
        *owners, last = self.path.split(".")
        for owner in owners:
            target = getattr(target, owner, _MISSING)
            if target is _MISSING:
                return f"{owner} is missing"
        if self.on_instance:
            if not callable(target):
                return "its class cannot be instantiated"
            try:
                target = target()
            except Exception as error:  # whatever the constructor raises is the mismatch
                return f"a probe instance cannot be built ({type(error).__name__}: {error})"
        found = getattr(target, last, _MISSING)
        if found is _MISSING:
            return "missing"
        return self.shape(found)


# Shapes: each returns None when the attribute fits, or what is wrong with it.


def _present(_found: object) -> str | None:
    return None


def _takes(*parameters: str) -> Shape:
    """Callable with these positional arguments, no more and no fewer required (the names are
    for the message only: the speed-ups pass them by position)."""

    def shape(found: object) -> str | None:
        if not callable(found):
            return "not callable"
        try:
            inspect.signature(found).bind(*parameters)
        except TypeError:
            return f"cannot be called with ({', '.join(parameters)})"
        except ValueError:  # no signature to inspect (a builtin): trust the name
            return None
        return None

    return shape


def _a_property(found: object) -> str | None:
    return None if isinstance(found, property) else "not a property"


def _a_bool(found: object) -> str | None:
    return None if isinstance(found, bool) else "not a bool"


def _a_dataclass(found: object) -> str | None:
    # A packet handed over as an object must equal the one parsed from its bytes.
    if isinstance(found, type) and dataclasses.is_dataclass(found):
        return None
    return "not a dataclass (compared field by field)"


def _a_logger(found: object) -> str | None:
    return None if isinstance(found, logging.Logger) else "not a logging.Logger"


def _no_own_format(found: object) -> str | None:
    """A packet class whose ``__format__`` is object's (or the debug-text hook's)."""
    if not isinstance(found, type):
        return "not a class"
    own = vars(found).get("__format__")
    if own is None or getattr(own, "__module__", "").startswith(_THIS_PACKAGE):
        return None
    return "defines its own __format__ (the short packet text would never apply)"


def _bumble_color(found: object) -> str | None:
    """The ``color`` a Bumble module imported: Bumble's own, or the memoised one."""
    module = getattr(found, "__module__", "")
    if callable(found) and (module == "bumble.colors" or module.startswith(_THIS_PACKAGE)):
        return None
    return "not bumble.colors.color"


def _on(module: str, shape: Shape, *paths: str, on_instance: bool = False) -> tuple[Need, ...]:
    return tuple(Need(module, path, shape, on_instance) for path in paths)


# Everything the speed-ups read, override, call or rebind in Bumble.
BUMBLE_NEEDS: Final[tuple[Need, ...]] = (
    # hci: the controller side. DirectController overrides send_hci_packet and reads `host`;
    # DirectHost calls the controller's on_hci_packet with a packet object.
    *_on("bumble.controller", _takes("self", "packet"), "Controller.send_hci_packet"),
    *_on("bumble.controller", _takes("self", "packet"), "Controller.on_hci_packet"),
    *_on("bumble.controller", _a_property, "Controller.host"),
    *_on("bumble.controller", _a_logger, "logger"),
    # hci: the host side. DirectHost overrides send_hci_packet, builds itself on an
    # AsyncPipeSink and checks that the pipe is still its sink and no snooper is attached;
    # objects reach a host through on_hci_packet once it is `ready`, bytes through on_packet.
    *_on("bumble.host", _takes("self", "source", "sink"), "Host.__init__"),
    *_on(
        "bumble.host",
        _takes("self", "packet"),
        "Host.send_hci_packet",
        "Host.on_hci_packet",
        "Host.on_packet",
    ),
    *_on("bumble.host", _present, "Host.hci_sink", "Host.snooper", on_instance=True),
    *_on("bumble.host", _a_bool, "Host.ready", on_instance=True),
    *_on("bumble.host", _a_logger, "logger"),
    *_on("bumble.transport.common", _takes("sink"), "AsyncPipeSink"),
    *_on("bumble.transport.common", _takes("self", "packet"), "AsyncPipeSink.on_packet"),
    *_on(
        "bumble.hci",
        _a_dataclass,
        "HCI_AclDataPacket",
        "HCI_Number_Of_Completed_Packets_Event",
    ),
    *_on("bumble.hci", _takes("self"), "HCI_Packet.__bytes__"),
    # debug_text: colour codes memoised where Bumble's packet text and HCI logs build them.
    *_on("bumble.colors", _takes("text", "colour"), "color"),
    *_on("bumble.hci", _bumble_color, "color"),
    *_on("bumble.att", _bumble_color, "color"),
    *_on("bumble.host", _bumble_color, "color"),
    *_on("bumble.controller", _bumble_color, "color"),
    # debug_text: packets formatted short when the formatting module's `logger` is quiet.
    *_on("bumble.hci", _no_own_format, "HCI_Packet"),
    *_on("bumble.att", _no_own_format, "ATT_PDU"),
    *_on("bumble.l2cap", _no_own_format, "L2CAP_PDU"),
    *_on("bumble.l2cap", _a_logger, "logger"),
    *_on("bumble.gatt_server", _a_logger, "logger"),
    *_on("bumble.gatt_client", _a_logger, "logger"),
    *_on("bumble.device", _a_logger, "logger"),
)


def check_bumble(needs: tuple[Need, ...] = BUMBLE_NEEDS) -> None:
    """Raise IncompatibleBumbleError listing every need the installed Bumble does not meet."""
    problems = [f"  {need.name}: {problem}" for need in needs if (problem := need.problem())]
    if not problems:
        return
    raise IncompatibleBumbleError(
        "the virtual radio's speed-ups reach into Bumble internals written against Bumble "
        f"{PINNED_BUMBLE} (pinned in pyproject.toml); the installed Bumble "
        f"{_installed_bumble()} does not have:\n"
        + "\n".join(problems)
        + f"\nInstall bumble=={PINNED_BUMBLE}, or adapt simulators/radio/speedups to this release."
    )


def install() -> Speedups:
    """Check Bumble (IncompatibleBumbleError if it does not fit), then enable the speed-ups.

    Cheap and idempotent (the checks take well under a millisecond): the virtual radio calls
    it as it starts, which also covers Bumble modules imported since the last call. Returns the
    controller and host classes the radio builds its devices from.
    """
    check_bumble()
    # Imported only now: their module-level imports of Bumble names would otherwise fail with a
    # bare ImportError before the check could say what changed.
    from simulators.radio.speedups import debug_text, hci

    debug_text.memoise_bumble_colors()
    debug_text.shorten_quiet_packet_text()
    return Speedups(controller=hci.DirectController, host=hci.DirectHost)


def _installed_bumble() -> str:
    # Only on the way to an error: importlib.metadata pulls in some forty modules.
    from importlib import metadata

    try:
        return metadata.version("bumble")
    except metadata.PackageNotFoundError:
        return "(version unknown)"


__all__ = [
    "BUMBLE_NEEDS",
    "PINNED_BUMBLE",
    "IncompatibleBumbleError",
    "Need",
    "Speedups",
    "check_bumble",
    "install",
]
