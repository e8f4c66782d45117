"""Quiet Bumble modules get short packet text; DEBUG brings the full text back."""

from __future__ import annotations

import logging

import bumble.att
import bumble.controller
import bumble.hci
import pytest

from simulators.radio.speedups.debug_text import shorten_quiet_packet_text


def _format_in_bumble_controller(packet: object) -> str:
    # An f-string in a frame whose globals are bumble.controller's, as in Bumble's own code.
    code = compile("f'{packet}'", bumble.controller.__file__, "eval")
    return str(eval(code, vars(bumble.controller), {"packet": packet}))


def test_quiet_bumble_module_formats_the_name_only(caplog: pytest.LogCaptureFixture) -> None:
    shorten_quiet_packet_text()
    packet = bumble.att.ATT_Write_Request(attribute_handle=3, attribute_value=b"\x01\x02")
    full = str(packet)
    assert "attribute_handle" in full
    caplog.set_level(logging.INFO, logger="bumble")
    assert _format_in_bumble_controller(packet) == "ATT_WRITE_REQUEST"
    assert f"{packet}" == full  # outside Bumble: unchanged
    caplog.set_level(logging.DEBUG, logger="bumble")
    assert _format_in_bumble_controller(packet) == full


def test_hci_packets_too() -> None:
    shorten_quiet_packet_text()
    logging.getLogger("bumble").setLevel(logging.INFO)
    packet = bumble.hci.HCI_Reset_Command()
    assert _format_in_bumble_controller(packet) == "HCI_RESET_COMMAND"
    assert "HCI_RESET_COMMAND" in f"{packet}"
    logging.getLogger("bumble").setLevel(logging.NOTSET)
