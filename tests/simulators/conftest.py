"""Shared fixtures for the simulator tests (H3's radio and clock, used by H4's treadmill tests).

Every async test under tests/simulators/ runs on the virtual clock (simulators.clock): timers
fire in order as fast as the CPU allows, so a 20-minute session takes milliseconds and no test
needs a real sleep. ``await advance(60)`` (tests/virtual_time.py) costs nothing.

Fixtures:
- ``radio``: a fresh ``VirtualRadio`` (closed after the test). ``radio.scanner_backend`` and
  ``radio.client_backend`` go to ``BleakScanner(backend=...)`` / ``BleakClient(backend=...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import pytest

from simulators.clock import new_virtual_loop
from simulators.radio import VirtualRadio


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, object]:
    """pytest-asyncio hook: the event loop of every async test in this directory."""
    return {"virtual_clock": new_virtual_loop}


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    async with VirtualRadio() as virtual_radio:
        yield virtual_radio
