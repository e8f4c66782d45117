"""The radio's speed-ups check the Bumble internals they use before enabling anything.

A renamed Bumble attribute must stop the radio at once with a message naming the attribute and
the pinned Bumble version, not turn into lost packets and timeouts later. The tests remove or
reshape attributes on Bumble's own classes (the third-party side) and undo it afterwards.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import bumble.controller
import bumble.host
import bumble.transport.common
import pytest
from bumble.controller import Controller
from bumble.host import Host

from simulators.radio import VirtualRadio, speedups
from simulators.radio.speedups import (
    PINNED_BUMBLE,
    IncompatibleBumbleError,
    check_bumble,
    install,
)
from simulators.radio.speedups.hci import DirectController, DirectHost

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_installed_bumble_meets_every_need() -> None:
    check_bumble()
    parts = install()
    assert parts.controller is DirectController
    assert parts.host is DirectHost


def test_the_pinned_version_is_the_installed_one_and_pyprojects() -> None:
    assert metadata.version("bumble") == PINNED_BUMBLE
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert f"bumble>={PINNED_BUMBLE},<" in " ".join(dependencies)


def test_a_missing_method_names_itself_and_the_pinned_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(Host, "on_hci_packet")
    with pytest.raises(IncompatibleBumbleError) as raised:
        install()
    message = str(raised.value)
    assert "bumble.host.Host.on_hci_packet: missing" in message
    assert f"Bumble {PINNED_BUMBLE}" in message
    assert f"bumble=={PINNED_BUMBLE}" in message


def test_a_missing_class_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(bumble.transport.common, "AsyncPipeSink")
    with pytest.raises(IncompatibleBumbleError, match=r"bumble\.transport\.common\.AsyncPipeSink"):
        install()


def test_a_reshaped_method_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Controller, "send_hci_packet", lambda self, packet, when: None)
    with pytest.raises(
        IncompatibleBumbleError,
        match=r"bumble\.controller\.Controller\.send_hci_packet: cannot be called with",
    ):
        install()


def test_an_attribute_set_in_init_is_checked_on_an_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original_init = Host.__init__

    def init_without_ready(self: Host, *args: object) -> None:
        original_init(self, *args)  # type: ignore[arg-type]
        del self.ready

    monkeypatch.setattr(Host, "__init__", init_without_ready)
    with pytest.raises(IncompatibleBumbleError, match=r"bumble\.host\.Host\.ready: missing"):
        install()


def test_a_module_logger_the_shortcut_reads_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(bumble.controller, "logger")
    with pytest.raises(IncompatibleBumbleError, match=r"bumble\.controller\.logger: missing"):
        install()


def test_every_problem_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Host, "on_packet")
    monkeypatch.delattr(bumble.host, "logger")
    with pytest.raises(IncompatibleBumbleError) as raised:
        install()
    assert "bumble.host.Host.on_packet" in str(raised.value)
    assert "bumble.host.logger" in str(raised.value)


def test_nothing_is_enabled_when_the_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulators.radio.speedups import debug_text

    enabled: list[str] = []
    monkeypatch.setattr(debug_text, "memoise_bumble_colors", lambda: enabled.append("colors"))
    monkeypatch.setattr(debug_text, "shorten_quiet_packet_text", lambda: enabled.append("text"))
    monkeypatch.delattr(Host, "on_hci_packet")
    with pytest.raises(IncompatibleBumbleError):
        install()
    assert enabled == []


async def test_a_radio_does_not_start_on_an_incompatible_bumble(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(Controller, "on_hci_packet")
    with pytest.raises(IncompatibleBumbleError, match=r"Controller\.on_hci_packet"):
        VirtualRadio()


def test_the_needs_cover_both_speedups() -> None:
    names = {need.name for need in speedups.BUMBLE_NEEDS}
    assert "bumble.host.Host.send_hci_packet" in names
    assert "bumble.controller.Controller.send_hci_packet" in names
    assert "bumble.colors.color" in names
    assert "bumble.att.ATT_PDU" in names
