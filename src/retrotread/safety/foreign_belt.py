"""Stop a belt we did not start (another app, a session that died): `retrotread stop --device`.

Nobody knows what such a belt does, so it is treated as running: `stop_foreign_belt` claims the
control point behind a latch closed from the start (reason "estop"), so nothing here can move
the belt, and runs the session's own stop procedure (`safety.latch.StopProcedure`): Request
Control (a refusal is tolerated: some devices refuse control yet obey Stop), Stop, and a retry
until Treadmill Data shows 0. It needs no speed band: a device whose grid misses the walking
band must still be stoppable. The events are a session stop's: a CommandEvent per write,
SafetyEvent `stop_unverified` if 0 was never seen, one StoppedEvent("estop").
"""

from __future__ import annotations

import asyncio

from retrotread.config import SafetyConfig
from retrotread.events import StopAck, StopSource
from retrotread.safety.latch import (
    MAX_STOP_ATTEMPTS,
    Latch,
    Listener,
    Reports,
    StopProcedure,
)
from retrotread.treadmill import Disconnected, Telemetry, Treadmill, TreadmillEvent


async def stop_foreign_belt(
    treadmill: Treadmill,
    safety: SafetyConfig,
    source: StopSource,
    *,
    attempts: int = MAX_STOP_ATTEMPTS,
    listener: Listener | None = None,
) -> StopAck:
    """Stop whatever `treadmill`'s belt is doing and verify it reaches 0 (at most `attempts`
    Stops, each waiting safety.stop_verify_timeout_s). Returns once the procedure ended:
    `acknowledged` if some Stop was answered success. `listener` gets every event.

    It claims the control point, so it runs at most once per Treadmill, and never on one a
    session's Supervisor holds (RuntimeError, nothing written)."""
    latch = Latch()
    latch.latch("estop", source)
    control_point = treadmill.claim_control_point(latch.gate)
    reports = Reports(asyncio.get_running_loop().time())
    if listener is not None:
        reports.add_listener(listener)
    procedure = StopProcedure(
        latch, treadmill, control_point, reports, safety.stop_verify_timeout_s
    )

    def watch(event: TreadmillEvent) -> None:
        if isinstance(event, Telemetry):
            reports.emit(procedure.observe(event))
        elif isinstance(event, Disconnected):
            procedure.link_lost()

    remove = treadmill.add_listener(watch)
    try:
        await procedure.retake_control()
        await procedure.run(attempts, belt_may_run=True)
    finally:
        remove()
    return procedure.ack()
