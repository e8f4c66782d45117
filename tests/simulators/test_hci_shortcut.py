"""The virtual radio hands ACL data and completion events over as objects (radio/speedups/hci.py).
That is only sound if such a packet equals what Bumble would parse from its bytes; and the
shortcut must step aside while Bumble's DEBUG logging is on, so logs stay Bumble's own."""

from __future__ import annotations

import logging

import bumble.controller
from bumble.hci import HCI_AclDataPacket, HCI_Number_Of_Completed_Packets_Event, HCI_Packet
from hypothesis import given
from hypothesis import strategies as st

from simulators.radio.speedups.hci import _quiet


@given(
    handle=st.integers(0, 0x0EFF),
    pb_flag=st.integers(0, 3),
    data=st.binary(max_size=251),
)
def test_an_acl_packet_object_equals_its_parsed_bytes(
    handle: int, pb_flag: int, data: bytes
) -> None:
    packet = HCI_AclDataPacket(handle, pb_flag, 0, len(data), data)
    assert HCI_Packet.from_bytes(bytes(packet)) == packet


@given(st.lists(st.tuples(st.integers(0, 0x0EFF), st.integers(0, 0xFFFF)), max_size=8))
def test_a_completion_event_object_equals_its_parsed_bytes(pairs: list[tuple[int, int]]) -> None:
    event = HCI_Number_Of_Completed_Packets_Event(
        connection_handles=[h for h, _ in pairs], num_completed_packets=[n for _, n in pairs]
    )
    assert HCI_Packet.from_bytes(bytes(event)) == event


def test_the_shortcut_steps_aside_while_bumble_debug_logging_is_on() -> None:
    logger = bumble.controller.logger
    before = logger.level
    try:
        logger.setLevel(logging.DEBUG)
        assert not _quiet(logger)
        logger.setLevel(logging.WARNING)
        assert _quiet(logger)
    finally:
        logger.setLevel(before)
