"""Hand data packets between a Bumble host and its virtual controller as objects, not bytes.

Over HCI, Bumble encodes every packet to bytes on one side and parses it back on the other,
even when host and controller share one process. On the virtual link nearly every packet is an
ACL data packet or the "Number Of Completed Packets" event that answers it (about 6,500 of the
~6,600 packets of a 20-minute simulated session), and encoding and parsing them was about a
seventh of its CPU time.

For exactly those two packet types, and only while the sending module's DEBUG logging is off,
the classes below pass the packet object itself, scheduled with ``call_soon`` just as Bumble's
byte pipe schedules the bytes: same order, same loop passes. A parsed packet equals the one
that was encoded (both are dataclasses, compared field by field), and neither
side changes a packet after sending it, so the receiver sees the same values. Every other packet
(commands, other events) and every packet while DEBUG is on or a snooper is attached takes
Bumble's own byte path, so logs and captures are exactly Bumble's.

The virtual radio builds its devices from these classes through ``speedups.install()``, which
first checks every Bumble attribute used here (see ``speedups.BUMBLE_NEEDS``).
"""

from __future__ import annotations

import asyncio
import logging

import bumble.controller
import bumble.host
from bumble.controller import Controller
from bumble.hci import HCI_AclDataPacket, HCI_Number_Of_Completed_Packets_Event, HCI_Packet
from bumble.host import Host
from bumble.transport.common import AsyncPipeSink

_TO_HOST_AS_OBJECTS = (HCI_AclDataPacket, HCI_Number_Of_Completed_Packets_Event)


def _quiet(logger: logging.Logger) -> bool:
    return not logger.isEnabledFor(logging.DEBUG)


def _deliver_to_host(host: Host, packet: HCI_Packet) -> None:
    """``Host.on_packet`` minus the parsing: a host not yet reset takes the byte path."""
    if host.ready:
        host.on_hci_packet(packet)
    else:
        host.on_packet(bytes(packet))


class DirectController(Controller):
    """A Bumble ``Controller`` that hands ACL data and completion events to its host as objects."""

    def send_hci_packet(self, packet: HCI_Packet) -> None:
        host = self.host
        if (
            type(packet) in _TO_HOST_AS_OBJECTS
            and isinstance(host, Host)
            and _quiet(bumble.controller.logger)
        ):
            asyncio.get_running_loop().call_soon(_deliver_to_host, host, packet)
            return
        super().send_hci_packet(packet)


class DirectHost(Host):
    """A Bumble ``Host`` on one in-process controller that hands it ACL data as objects."""

    def __init__(self, controller: Controller) -> None:
        self._controller_pipe = AsyncPipeSink(controller)
        self._direct_controller = controller
        super().__init__(controller, self._controller_pipe)

    def send_hci_packet(self, packet: HCI_Packet) -> None:
        if (
            type(packet) is HCI_AclDataPacket
            and self.hci_sink is self._controller_pipe
            and self.snooper is None
            and _quiet(bumble.host.logger)
        ):
            # What the pipe would do with bytes(packet): Controller.on_packet parses and calls
            # on_hci_packet, which is where the object goes directly.
            asyncio.get_running_loop().call_soon(self._direct_controller.on_hci_packet, packet)
            return
        super().send_hci_packet(packet)
