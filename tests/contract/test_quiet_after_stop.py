"""After a stop the program says nothing more about itself.

Once a safety stop latched, the belt will never walk the next segment, so neither the JSON stream
nor the human lines announce one, however long the stop takes to verify: a stalled machine (no
data, the belt never seen at 0: a minute of retries), a link that is down for 30 s, a heart rate
above the limit just before a segment boundary. The first-steps segments change every 60 s.
"""

from __future__ import annotations

import pytest

from tests.support.cli import FAST, RunScript
from tests.support.schema import check_session, of_kind


@pytest.mark.parametrize(
    ("fault", "env"),
    [
        ("stall@30", {}),
        ("disconnect@30:30", {}),
        ("hr@29:190", {"RETROTREAD_SAFETY__MAX_HEART_RATE_BPM": "150"}),
    ],
)
def test_no_segment_is_announced_after_a_safety_stop(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch, fault: str, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = cli("run", "--sim", "--json", "--sim-fault", fault, *FAST)
    assert result.code == 3, result.err
    events = result.events()
    check_session(events)
    stops = [s for s in of_kind(events, "safety") if s["action"] == "stop"]
    assert stops, events
    latched_at = events.index(stops[0])
    assert [e for e in events[latched_at:] if e["event"] in ("segment", "prompt")] == []

    human = result.err.splitlines()
    latched_line = next(
        i for i, line in enumerate(human) if "SAFETY:" in line and "-> stop" in line
    )
    assert [line for line in human[latched_line:] if "] segment " in line] == []
