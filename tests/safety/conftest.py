"""Every async test here runs on the simulator's virtual clock: no real sleeps, minutes of belt
time in milliseconds. Fixtures give a simulated treadmill and a connected `Treadmill`."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from simulators.clock import new_virtual_loop


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, object]:
    return {"virtual_clock": new_virtual_loop}
