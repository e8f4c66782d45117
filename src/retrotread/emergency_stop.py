"""`retrotread stop` with options: local sessions, then the device directly, then the broker.

The local sessions always come first: it is the fastest channel and costs nothing when none is
running. A treadmill one of those sessions holds is not connected to again (it just stopped it,
and a second central could not connect anyway). Channels that fail are reported, but the exit
code is 0 as soon as any channel acknowledged. Heavy imports (bleak, aiomqtt, config) stay inside
the branch that needs them, so the plain `stop` through typer costs no more than it must.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retrotread import control_client
from retrotread.control_client import belt_phrase
from retrotread.errors import ConnectError, InputError, RetrotreadError

Say = Callable[[str, bool], None]
"""Tell the person one line; the flag is True for a line that belongs on stderr."""


@dataclass(frozen=True)
class StopRequest:
    """Where to send the stop: `device` / `sim` for a direct FTMS Stop, `mqtt` for the broker
    (`target_id` one treadmill, `all_` every one, else the configured id); `sim_profile` None is
    the configured one."""

    device: str | None = None
    sim: bool = False
    sim_profile: str | None = None
    mqtt: bool = False
    target_id: str | None = None
    all_: bool = False
    timeout_s: float = control_client.DEFAULT_TIMEOUT_S
    config_file: Path | None = None

    def check(self) -> None:
        if (self.target_id is not None or self.all_) and not self.mqtt:
            raise InputError("--id and --all go with --mqtt")
        if self.target_id is not None and self.all_:
            raise InputError("give either --id or --all, not both")


def stop_everywhere(request: StopRequest, say: Say) -> int:
    """Stop every channel `request` names, telling each result as it comes; the exit code.

    InputError (exit 2) before anything is sent when the request is bad."""
    request.check()
    report = control_client.stop_all_sessions(request.timeout_s)
    if request.device is None and not request.sim and not request.mqtt:
        for line, to_stderr in report.printed_lines():
            say(line, to_stderr)
        return report.exit_code()

    for line in report.lines() if report.sessions else []:
        say(line, False)
    stopped = report.any_acknowledged
    failures: list[RetrotreadError] = []
    wants_device = request.device is not None or request.sim
    if wants_device and not (request.device is not None and report.holds_device(request.device)):
        try:
            stopped |= _stop_device(request, say)
        except RetrotreadError as err:
            failures.append(err)
    if request.mqtt:
        try:
            stopped |= _stop_over_mqtt(request, say)
        except RetrotreadError as err:
            failures.append(err)
    for failure in failures:
        say(f"error: {failure}", True)
    if stopped:
        return 0
    return max((failure.exit_code for failure in failures), default=4)


def _stop_device(request: StopRequest, say: Say) -> bool:
    from retrotread.direct_stop import stop_device

    result = stop_device(
        request.device,
        sim=request.sim,
        sim_profile=request.sim_profile,
        config_file=request.config_file,
    )
    belt = belt_phrase(result.belt_mph)
    if result.acknowledged:
        say(
            f"stopped {result.device} ({belt})" + (f"; {result.detail}" if result.detail else ""),
            False,
        )
    else:
        say(f"{result.device} did not acknowledge the stop ({belt}): {result.detail}", False)
    return result.acknowledged


def _stop_over_mqtt(request: StopRequest, say: Say) -> bool:
    import asyncio

    from retrotread.config import load_settings
    from retrotread.mqtt.remote_stop import publish_stop

    settings = load_settings(request.config_file, for_stop=True)
    reports = asyncio.run(
        publish_stop(settings.mqtt, request.target_id, request.all_, request.timeout_s)
    )
    if not reports:
        raise ConnectError("no treadmill is online on the MQTT broker")
    for r in reports:
        belt = belt_phrase(r.belt_mph)
        if r.acknowledged:
            say(f"stopped {r.id} over MQTT ({belt}, state {r.state})", False)
        elif r.state in ("stopped", "fault"):
            # Typically stopped a moment ago through its local control socket, above.
            say(f"{r.id} was already stopped ({belt}, state {r.state})", False)
        else:
            say(f"{r.id} did not acknowledge the MQTT stop ({belt}, state {r.state})", False)
    return any(r.acknowledged for r in reports)
