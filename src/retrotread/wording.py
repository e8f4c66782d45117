"""The words and clocks people read about a session: who or what stopped it, who paused the belt,
what the supervisor saw, and times as clocks.

One home, because every view says these and must say them alike: the plain lines
(`channels.sinks`), the live view (`cli.live`), the summary after a session (`run`), the plot
(`history.plot`), and `history` / `show` (`cli.history_cmd`). JSON keeps the codes (SPEC.md);
these are for people.

Shared vocabulary, and free of the event models at run time (they are named for the type checker
only): `history` on an unchanged data dir prints the stop reasons without importing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from retrotread.events import PromptEvent, SafetyEvent, SafetyReason, StopReason

SAFETY_WORDS: dict[SafetyReason, str] = {
    "overspeed": "belt overspeed",
    "telemetry_stale": "no data from the treadmill",
    "disconnected": "the link to the treadmill dropped",
    "heart_rate": "heart rate above the limit",
    "estop": "emergency stop",
    "safety_key": "safety key pulled",
    "console_stop": "stopped at the console",
    "control_refused": "the treadmill refused a command",
    "control_lost": "the treadmill withdrew control",
    "no_answer": "the treadmill stopped answering",
    "pause_failed": "the pause failed",
    "start_failed": "the belt could not be started",
    "pacer_error": "an internal error in the pacing",
    "stop_unverified": "the belt was not seen to stop",
    "heart_rate_lost": "no heart rate",
    "struggle": "shorter steps",
}
"""What the supervisor saw (`safety.reason`), in words."""

SOURCE_WORDS: dict[str, str] = {
    "sigint": "by you (Ctrl-C)",
    "sigterm": "by a termination signal (SIGTERM)",
    "sighup": "because the terminal closed (SIGHUP)",
    "keyboard": "by you (a key in the live view)",
    "walker": "by the walker",
    "control-socket": "from another terminal (the control socket)",
    "mqtt": "remotely (MQTT)",
    "treadmill": "at the treadmill",
    "supervisor": "by the supervisor",
    "program": "by the program",
    "engine": "by an internal error",
    "connect": "because the treadmill could not be reached",
    "turnaround": "for the turn-around",
}
"""Who asked for a stop or a pause (`StopSource`), as "Stopped ..." / "Paused ..." goes on."""


def safety_words(reason: SafetyReason) -> str:
    """`belt overspeed`, `no heart rate`: what the supervisor saw; an unknown reason as it is."""
    return SAFETY_WORDS.get(reason, reason)


def by_whom(source: str | None) -> str:
    """`by you (Ctrl-C)`, `remotely (MQTT)`, ...: who asked, for a line about a stop or pause;
    empty when nobody is named."""
    if not source:
        return ""
    return SOURCE_WORDS.get(source, f"by {source}")


def stop_cause(
    reason: StopReason | str, source: str | None = None, safety: SafetyEvent | None = None
) -> str:
    """Who or what ended a session, as a person says it: "Program complete", "Stopped by you
    (Ctrl-C)", "Safety key pulled", "Stopped by the supervisor: belt overspeed".

    `safety` is the session's first safety event with action `stop` (when there was one): it
    says what the supervisor saw for a `fault` stop, and that a failed pause became the stop.
    `reason` is `stopped.reason`; one this version does not know (an index row of a newer
    journal) reads "Stopped (reason)"."""
    match reason:
        case "completed":
            return "Program complete"
        case "safety_key":
            return "Safety key pulled"
        case "console_stop":
            return "Stopped at the console"
        case "estop" if safety is not None and safety.reason == "pause_failed":
            return "Stopped: the pause failed, so the belt was stopped instead"
        case "estop" if source == "control-socket":
            return "Stopped by `retrotread stop` from another terminal"
        case "estop" if source == "walker":
            return "Not started: the start was not confirmed"
        case "fault" if safety is not None:
            return f"Stopped by the supervisor: {safety_words(safety.reason)}"
        case "fault" if source in ("engine", "connect"):
            return f"Stopped {by_whom(source)}"
        case "fault":
            return "Stopped by the supervisor"
        case "estop" | "interrupted" if source:
            return f"Stopped {by_whom(source)}"
        case "estop":
            return "Emergency stop"
        case "interrupted":
            return "Interrupted"
    return f"Stopped ({reason})"


def turnaround_phases(prompt: PromptEvent) -> str:
    """The time a turn-around spent in each phase its prompt carries: "slowing 4 s, turning 5 s,
    ramping 6 s"; empty when it carries none."""
    phases = (
        ("slowing", prompt.slowing_s),
        ("turning", prompt.holding_s),
        ("ramping", prompt.ramping_s),
    )
    return ", ".join(f"{name} {value:.0f} s" for name, value in phases if value is not None)


# -- clocks ---------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """A session clock, `mm:ss` to the nearest second (`00:05`, `75:00`): the time stamps of the
    plain lines, the live view's clocks, a segment's length while the session runs."""
    whole = max(0, round(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def duration(seconds: float | None) -> str:
    """How long something took, looked back on: `m:ss`, `h:mm:ss` from an hour (`5:30`,
    `1:02:05`); empty for None. The summary after a session, `history`, `show`, the plot and
    the exports' notes."""
    if seconds is None:
        return ""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(moment: datetime) -> str:
    """`2026-12-01 10:49`: when a session started, in this machine's time zone (`history`, the
    plot's title)."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def heart_rate_text(bpm: float, source: str | None = None) -> str:
    """`97 bpm (strap)`, `110 bpm`: a heart rate and where it came from, when known."""
    return f"{bpm:.0f} bpm ({source})" if source else f"{bpm:.0f} bpm"
