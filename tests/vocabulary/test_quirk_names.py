"""One list of quirk names: the client's flags, the config's accepted names and the simulator's
profiles all speak `QuirkName`."""

from __future__ import annotations

from typing import get_args

from retrotread.config import Quirk
from retrotread.events import QuirkName
from retrotread.treadmill.quirks import Quirks
from simulators.profiles import PROFILE_NAMES, load_profile


def test_the_client_has_one_flag_per_quirk_name() -> None:
    assert Quirks.names() == tuple(QuirkName)


def test_config_accepts_exactly_the_quirk_names() -> None:
    assert get_args(Quirk) == tuple(QuirkName)


def test_every_builtin_profile_speaks_quirk_names() -> None:
    for name in PROFILE_NAMES:
        assert all(isinstance(q, QuirkName) for q in load_profile(name).quirks)
