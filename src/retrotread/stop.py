"""`retrotread stop`: every way to stop a belt, and one answer for all of them.

The local sessions come first (their control sockets): the fastest channel, free when none is
running. Then, when asked, the treadmill directly (`--device`, `--sim`), unless a session that
just acknowledged holds it (a second central could not connect anyway), and the MQTT broker.
Whatever a channel answered becomes a `StopOutcome`, and only `StopOutcome.text()` turns an
answer into words for people. The exit code is 0 as soon as any channel acknowledged.

A plain `retrotread stop` is the emergency path: `stop_sessions` reaches it from the CLI's
stdlib-only fast path, so this module imports nothing at load time beyond the socket client
(no `__future__`, no `typing`, no dataclasses); everything heavier waits inside the branch that
needs it.
"""

from retrotread import exit_codes
from retrotread.channels.socket import client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

    from retrotread.config import Settings

STOP_SOURCE = "cli"
DEVICE_STOP_ATTEMPTS = 2
DEFAULT_TIMEOUT_S = client.DEFAULT_TIMEOUT_S


class StopOutcome:
    """What one channel answered about one belt.

    `channel` is "session" (a local session, `name` its id), "device" (a treadmill stopped
    directly, `name` as it advertises) or "mqtt" (a treadmill on the broker, `name` its id);
    `acknowledged`: FTMS Stop answered success; `belt_mph` the speed last seen (None: unknown);
    `state` the session state an MQTT treadmill reported.
    """

    __slots__ = ("acknowledged", "belt_mph", "channel", "detail", "name", "state")

    def __init__(
        self,
        channel: str,
        name: str,
        acknowledged: bool,
        belt_mph: "float | None",
        detail: str = "",
        state: "str | None" = None,
    ) -> None:
        self.channel = channel
        self.name = name
        self.acknowledged = acknowledged
        self.belt_mph = belt_mph
        self.detail = detail
        self.state = state

    def __repr__(self) -> str:
        return f"StopOutcome({self.channel!r}, {self.name!r}, {self.acknowledged!r})"

    def text(self) -> str:
        """The one line a person reads about this belt."""
        belt = "belt speed unknown" if self.belt_mph is None else f"belt at {self.belt_mph:.1f} mph"
        if self.channel == "session":
            if self.acknowledged:
                return f"stopped session {self.name} ({belt})"
            detail = f": {self.detail}" if self.detail else ""
            return f"session {self.name} did not acknowledge the stop ({belt}){detail}"
        if self.channel == "mqtt":
            if self.acknowledged:
                return f"stopped {self.name} over MQTT ({belt}, state {self.state})"
            if self.state in ("stopped", "fault"):
                # Typically stopped a moment ago through its local control socket.
                return f"{self.name} was already stopped ({belt}, state {self.state})"
            return f"{self.name} did not acknowledge the MQTT stop ({belt}, state {self.state})"
        if self.acknowledged:
            return f"stopped {self.name} ({belt})" + (f"; {self.detail}" if self.detail else "")
        return f"{self.name} did not acknowledge the stop ({belt}): {self.detail}"


class LocalStop:
    """The local sessions' outcomes, and where they were looked for when none was found."""

    __slots__ = ("outcomes", "report")

    def __init__(self, report: "client.StopReport") -> None:
        self.report = report
        self.outcomes = [
            StopOutcome("session", s.session, s.acknowledged, s.belt_mph, s.detail)
            for s in report.sessions
        ]

    @property
    def acknowledged(self) -> bool:
        return any(o.acknowledged for o in self.outcomes)

    def exit_code(self) -> int:
        """0 some session acknowledged; 1 none was running; 4 none acknowledged in time."""
        if self.acknowledged:
            return exit_codes.SUCCESS
        if not self.outcomes:
            return exit_codes.NO_SESSION
        return exit_codes.NO_CONNECTION

    def lines(self) -> "list[tuple[str, bool]]":
        """Each line with True when it goes to stderr: all on stdout when something stopped,
        all on stderr when not; one line saying nobody was running, and where we looked."""
        to_stderr = self.exit_code() != exit_codes.SUCCESS
        if self.outcomes:
            return [(o.text(), to_stderr) for o in self.outcomes]
        report = self.report
        why = f" (looked in {', '.join(report.looked_in)})" if report.looked_in else ""
        for problem in report.problems:
            why += f"; {problem}"
        stale = len(report.stale_removed)
        if stale:
            why += f"; removed {stale} stale control socket{'s' if stale > 1 else ''}"
        return [(f"no session running{why}", to_stderr)]


def stop_sessions(timeout_s: float = DEFAULT_TIMEOUT_S) -> LocalStop:
    """Stop every local session of this user (the plain `retrotread stop`)."""
    return LocalStop(client.stop_all_sessions(timeout_s))


class StopRequest:
    """Where to send the stop: `device` / `sim` for a direct FTMS Stop, `mqtt` for the broker
    (`target_id` one treadmill, `all_` every one, else the configured id); `sim_profile` None is
    the configured one."""

    __slots__ = (
        "all_",
        "config_file",
        "device",
        "mqtt",
        "sim",
        "sim_profile",
        "target_id",
        "timeout_s",
    )

    def __init__(
        self,
        *,
        device: "str | None" = None,
        sim: bool = False,
        sim_profile: "str | None" = None,
        mqtt: bool = False,
        target_id: "str | None" = None,
        all_: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        config_file: "Path | None" = None,
    ) -> None:
        self.device = device
        self.sim = sim
        self.sim_profile = sim_profile
        self.mqtt = mqtt
        self.target_id = target_id
        self.all_ = all_
        self.timeout_s = timeout_s
        self.config_file = config_file

    def check(self) -> None:
        from retrotread.errors import InputError

        if (self.target_id is not None or self.all_) and not self.mqtt:
            raise InputError("--id and --all go with --mqtt")
        if self.target_id is not None and self.all_:
            raise InputError("give either --id or --all, not both")


def stop_everywhere(request: StopRequest, say: "Callable[[str, bool], None]") -> int:
    """Stop every channel `request` names, telling each outcome as it comes (`say(line,
    to_stderr)`); the exit code. InputError (exit 2) before anything is sent when the request
    is bad."""
    from retrotread.errors import RetrotreadError

    request.check()
    local = stop_sessions(request.timeout_s)
    if request.device is None and not request.sim and not request.mqtt:
        for line, to_stderr in local.lines():
            say(line, to_stderr)
        return local.exit_code()

    for outcome in local.outcomes:
        say(outcome.text(), False)
    stopped = local.acknowledged
    failures: list[RetrotreadError] = []
    wants_device = request.device is not None or request.sim
    held = request.device is not None and local.report.holds_device(request.device)
    if wants_device and not held:
        try:
            outcome = stop_device(request)
            say(outcome.text(), False)
            stopped |= outcome.acknowledged
        except RetrotreadError as err:
            failures.append(err)
    if request.mqtt:
        try:
            for outcome in stop_over_mqtt(request):
                say(outcome.text(), False)
                stopped |= outcome.acknowledged
        except RetrotreadError as err:
            failures.append(err)
    for failure in failures:
        say(f"error: {failure}", True)
    if stopped:
        return exit_codes.SUCCESS
    return max((failure.exit_code for failure in failures), default=exit_codes.NO_CONNECTION)


def stop_device(request: StopRequest) -> StopOutcome:
    """A treadmill no session of ours holds: a real device by address/name, or (with `sim`) an
    in-process simulator; InputError (exit 2) for a bad profile, ConnectError (exit 4) when the
    device cannot be reached."""
    from retrotread import target
    from retrotread.config import load_settings

    settings = load_settings(request.config_file, for_stop=True)
    if not request.sim:
        assert request.device is not None
        device = request.device
        return target.run_on_target(stop_treadmill(device, settings), sim=False)
    profile = target.sim_profile_for(request.sim_profile, settings)
    wanted = request.device

    async def on_simulator() -> StopOutcome:
        async with target.simulated_treadmill(profile) as sim:
            return await stop_treadmill(
                wanted or sim.address,
                settings,
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )

    return target.run_on_target(on_simulator(), sim=True)


async def stop_treadmill(
    device: str,
    settings: "Settings",
    *,
    scanner_backend: "type[BaseBleakScanner] | None" = None,
    client_backend: "type[BaseBleakClient] | None" = None,
) -> StopOutcome:
    """Connect to `device` (address or name) and stop its belt on the supervisor's stop
    procedure (`safety.foreign_belt`: Request Control, a refusal tolerated, FTMS Stop, verified
    by telemetry). ConnectError (exit 4) if it can't be reached."""
    from retrotread.events import CommandEvent, Event, SafetyEvent, TelemetryEvent
    from retrotread.safety.foreign_belt import stop_foreign_belt
    from retrotread.treadmill import Quirks, Treadmill

    treadmill = await Treadmill.connect(
        device,
        quirks=Quirks.from_names(settings.device.quirks),
        scanner_backend=scanner_backend,
        client_backend=client_backend,
        scan_timeout=settings.device.connect_timeout_s,
        command_timeout=settings.safety.command_timeout_s,
    )
    name = treadmill.info.name or treadmill.address
    # The StopAck says whether a Stop was acknowledged; the events add whether the belt was seen
    # at all (else its 0 mph is a default, not a reading), whether it was then seen at 0, and
    # what a refused Stop answered.
    seen = {"belt": False, "unverified": False}
    last_result: list[str] = []

    def observe(event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            seen["belt"] = True
        elif isinstance(event, CommandEvent) and event.op == "stop":
            last_result.append(event.result)
        elif isinstance(event, SafetyEvent) and event.reason == "stop_unverified":
            seen["unverified"] = True

    try:
        ack = await stop_foreign_belt(
            treadmill,
            settings.safety,
            STOP_SOURCE,
            attempts=DEVICE_STOP_ATTEMPTS,
            listener=observe,
        )
    finally:
        await treadmill.disconnect()
    if ack.acknowledged and not seen["unverified"]:
        detail = ""
    elif not last_result:
        detail = "no Stop could be written"
    elif last_result[-1] != "success":
        detail = f"Stop answered {last_result[-1]}"
    else:
        detail = "the belt was not seen at 0"
    belt_mph = round(ack.belt_mph, 2) if seen["belt"] else None
    return StopOutcome("device", name, ack.acknowledged, belt_mph, detail)


def stop_over_mqtt(request: StopRequest) -> "list[StopOutcome]":
    """Publish a stop to the configured broker and collect what each treadmill reported;
    ConnectError (exit 4) when the broker cannot be reached or no treadmill is online."""
    import asyncio

    from retrotread.channels.mqtt.remote_stop import publish_stop
    from retrotread.config import load_settings
    from retrotread.errors import ConnectError

    settings = load_settings(request.config_file, for_stop=True)
    reports = asyncio.run(
        publish_stop(settings.mqtt, request.target_id, request.all_, request.timeout_s)
    )
    if not reports:
        raise ConnectError("no treadmill is online on the MQTT broker")
    return [StopOutcome("mqtt", r.id, r.acknowledged, r.belt_mph, state=r.state) for r in reports]
