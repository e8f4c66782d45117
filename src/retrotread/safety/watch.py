"""What the supervisor concludes from what the treadmill reports: pure verdicts, time passed in.

Nothing here reads a clock, awaits or writes: every rule takes the moment it judges (the event
loop's time a notification was received, or a write was decided) as an argument, so each rule can
be swept exhaustively without a treadmill, a simulator or an event loop. The supervisor feeds
them and acts on their verdicts (a fault stop, a slow-down, nothing).

- `Overspeed`: the fastest belt allowed right now. The commanded speed, or after a decrease the
  previous one for at most OVERSPEED_GRACE_S until the belt is seen at the new speed (a belt
  lags behind a decrease), never above the band's ceiling, plus the tolerance.
- `HeartRate`: above the limit the belt slows to the floor; still above it heart_rate_slow_s
  later, the session stops.
- `HeartRateLoss`: no heart rate for heart_rate_timeout_s while a limit or a zone needs one: the
  belt holds at the floor until one is back (not a stop: a strap slips, and the walker is fine).
- `Struggle`: on a treadmill that counts steps, a step length (belt distance per step) well
  below the walker's own baseline at that steady belt speed for a sustained time slows the belt
  one step (older walkers speed up backward only by cadence, so shorter steps at a steady belt
  mean struggling); it only ever asks for slower, and waits a cool-down before asking again.
- `StatusWatch`: a Fitness Machine Status by its `MachineStatusOpCode`. A pulled safety key and
  someone at the console stop the session, a withdrawn control is a fault, and one "paused"
  status per Pause we wrote (within PAUSE_ECHO_WINDOW_S) is only that Pause's echo.

Speeds are belt speeds in hundredths of km/h ("centi", `safety.limits`), as exact Fractions.
"""

from __future__ import annotations

import enum
from collections import deque
from fractions import Fraction

from retrotread.ftms import MachineStatusOpCode
from retrotread.treadmill.events import StopControl

# After a decrease of the commanded speed the belt lags behind: the previous speed stays allowed
# until the belt is seen at the new one, but no longer than this.
OVERSPEED_GRACE_S = 15.0
# A "paused by user" Machine Status this soon after one of our Pause writes is its echo; the
# window only keeps a device that never echoes from turning a much later console Pause into one.
PAUSE_ECHO_WINDOW_S = 3.0
# Step length is judged over this many seconds of step counts: at a backward cadence of about
# 1.5 steps/s that is ~15 steps, so the counter's whole-step resolution costs at most ~7 %.
STRIDE_WINDOW_S = 10.0
# A belt within this of the speed it held counts as steady (km/h; a ramp step is 0.16 km/h).
STEADY_TOLERANCE_KMH = 0.05
# Below this the belt is not carrying a walker anywhere: no step length to judge.
MOVING_KMH = 0.1


class Overspeed:
    """The overspeed allowance of one session's belt.

    `commanded()` hears of every change of the commanded speed, `check()` of every belt speed
    seen; the only state is the speed a decrease left behind and until when it stays allowed."""

    def __init__(self, tolerance_c: Fraction | int, grace_s: float = OVERSPEED_GRACE_S) -> None:
        self._tolerance_c = tolerance_c
        self._grace_s = grace_s
        self._allowed_c = Fraction(0)  # the higher of the commanded speed and one just left
        self._allowed_until = 0.0

    def commanded(self, old_c: Fraction, new_c: Fraction, now: float) -> None:
        """The commanded speed changes from `old_c` to `new_c` (0: nothing commanded) at `now`.
        A decrease keeps the old speed allowed for the grace; a second decrease while the belt
        still lags keeps the fastest of them."""
        if new_c < old_c:
            still_lagging = now < self._allowed_until
            self._allowed_c = max(self._allowed_c if still_lagging else Fraction(0), old_c)
            self._allowed_until = now + self._grace_s

    def check(
        self, belt_c: int | Fraction, commanded_c: Fraction, ceiling_c: Fraction, now: float
    ) -> Fraction | None:
        """The limit a belt seen at `belt_c` at `now` exceeds, or None when it is allowed.
        A belt within the tolerance of the commanded speed has caught up with any decrease:
        from then on only the commanded speed is allowed."""
        allowed = commanded_c
        if belt_c <= commanded_c + self._tolerance_c:
            self._allowed_until = 0.0  # the belt has caught up with the decrease
        elif now < self._allowed_until:
            allowed = max(allowed, self._allowed_c)
        # Never above the band's ceiling, whatever was commanded.
        limit = min(allowed, ceiling_c) + self._tolerance_c
        return limit if belt_c > limit else None


class HeartRateVerdict(enum.Enum):
    fine = "fine"  # no limit, no reading, or at or below the limit
    slow = "slow"  # just rose above the limit: say so, and hold the belt at the floor
    holding = "holding"  # still above it, within heart_rate_slow_s of the slow-down
    stop = "stop"  # still above it heart_rate_slow_s after the slow-down


class HeartRate:
    """The heart-rate rule: above `limit_bpm`, slow to the floor; still above it `slow_s`
    later, stop. A reading at or below the limit ends the slow-down; a packet without a heart
    rate says nothing either way."""

    def __init__(self, limit_bpm: int | None, slow_s: float) -> None:
        self._limit_bpm = limit_bpm
        self._slow_s = slow_s
        self._high_since: float | None = None

    @property
    def slowing(self) -> bool:
        """Above the limit at the last reading: every target is the floor."""
        return self._high_since is not None

    def verdict(self, bpm: int | None, now: float) -> HeartRateVerdict:
        limit = self._limit_bpm
        if limit is None or bpm is None:
            return HeartRateVerdict.fine
        if bpm <= limit:
            self._high_since = None
            return HeartRateVerdict.fine
        if self._high_since is None:
            self._high_since = now
            return HeartRateVerdict.slow
        if now - self._high_since >= self._slow_s:
            return HeartRateVerdict.stop
        return HeartRateVerdict.holding


class HeartRateLossVerdict(enum.Enum):
    fine = "fine"  # a heart rate, none needed, or not missing for long enough yet
    lost = "lost"  # just went missing for the timeout: say so, and hold the belt at the floor
    holding = "holding"  # still missing: keep holding
    back = "back"  # a heart rate again (or none needed any more): the hold ends


class HeartRateLoss:
    """The lost-heart-rate rule: while `needed` (a limit or a zone depends on the heart rate), a
    packet without one for `timeout_s` since the last one holds the belt at the floor; the next
    heart rate (or the need going away) ends the hold. Time counts only while it is needed, so a
    zone that starts later gets the whole timeout."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._seen_at: float | None = None  # the last heart rate, or when it became needed
        self._lost = False

    @property
    def lost(self) -> bool:
        """Holding at the floor for a missing heart rate: every target is the floor."""
        return self._lost

    def verdict(self, bpm: int | None, now: float, *, needed: bool) -> HeartRateLossVerdict:
        if bpm is not None or not needed:
            self._seen_at = now if bpm is not None else None
            if self._lost:
                self._lost = False
                return HeartRateLossVerdict.back
            return HeartRateLossVerdict.fine
        if self._lost:
            return HeartRateLossVerdict.holding
        if self._seen_at is None:
            self._seen_at = now
        if now - self._seen_at >= self._timeout_s:
            self._lost = True
            return HeartRateLossVerdict.lost
        return HeartRateLossVerdict.fine


class StruggleVerdict(enum.Enum):
    fine = "fine"  # no step count, not steady, no baseline yet, or step length near baseline
    slow = "slow"  # step length well below baseline for the hold: slow the belt one step


class Struggle:
    """The struggle governor's rule: cadence and step length from the treadmill's step count.

    Step length is belt distance per step, from the belt speed and the steps counted over the
    last STRIDE_WINDOW_S at a steady belt speed. The baseline is the walker's own: the step
    length over the first `baseline_s` at each steady belt speed (one per speed, so a healthy
    walker's naturally shorter steps at a slower belt are never taken for struggling). Once a
    speed has its baseline, a windowed step length below `(1 - drop) * baseline` for `hold_s`
    gives one `slow`; then nothing for `cooldown_s`. Any change of belt speed (a ramp, our own
    slow-down), a missing step count or a counter that goes backwards restarts the steady
    period, so the rule only ever judges a steady belt and can never ask for more speed."""

    def __init__(
        self,
        *,
        drop: float,
        hold_s: float,
        baseline_s: float,
        cooldown_s: float,
        window_s: float = STRIDE_WINDOW_S,
    ) -> None:
        self._drop = drop
        self._hold_s = hold_s
        self._baseline_s = baseline_s
        self._cooldown_s = cooldown_s
        self._window_s = window_s
        self._baselines: dict[int, float] = {}  # steady belt speed (0.01 km/h) -> metres/step
        self._speed_kmh: float | None = None  # the steady speed being judged
        self._first: tuple[float, int] | None = None  # (time, steps) where the steady run began
        self._window: deque[tuple[float, int]] = deque()
        self._low_since: float | None = None
        self._quiet_until = float("-inf")  # the cool-down after a slow-down
        self.cadence_spm: float | None = None  # steps per minute over the window
        self.step_length_m: float | None = None  # metres of belt per step over the window

    def baseline_m(self, speed_kmh: float) -> float | None:
        """The walker's baseline step length at `speed_kmh`, once established."""
        return self._baselines.get(round(speed_kmh * 100))

    @property
    def baseline_here_m(self) -> float | None:
        """The baseline at the steady speed being judged now, once established."""
        return None if self._speed_kmh is None else self.baseline_m(self._speed_kmh)

    def verdict(self, steps: int | None, speed_kmh: float | None, now: float) -> StruggleVerdict:
        if steps is None or speed_kmh is None or speed_kmh < MOVING_KMH:
            self._restart(None)
            return StruggleVerdict.fine
        held = self._speed_kmh
        if held is None or abs(speed_kmh - held) > STEADY_TOLERANCE_KMH:
            self._restart(speed_kmh)
        elif self._window and steps < self._window[-1][1]:
            self._restart(speed_kmh)  # the counter was reset (or wrapped): count afresh
        assert self._speed_kmh is not None
        if self._first is None:
            self._first = (now, steps)
        self._window.append((now, steps))
        while now - self._window[0][0] > self._window_s:
            self._window.popleft()
        self._measure(self._speed_kmh)
        key = round(self._speed_kmh * 100)
        started_at, first_steps = self._first
        if key not in self._baselines:
            if now - started_at >= self._baseline_s and steps > first_steps:
                metres = self._speed_kmh / 3.6 * (now - started_at)
                self._baselines[key] = metres / (steps - first_steps)
            return StruggleVerdict.fine
        return self._judge(self._baselines[key], now)

    def _judge(self, baseline: float, now: float) -> StruggleVerdict:
        length = self.step_length_m
        if length is None or length >= baseline * (1 - self._drop):
            self._low_since = None
            return StruggleVerdict.fine
        if self._low_since is None:
            self._low_since = now
        if now - self._low_since >= self._hold_s and now >= self._quiet_until:
            self._low_since = None
            self._quiet_until = now + self._cooldown_s
            return StruggleVerdict.slow
        return StruggleVerdict.fine

    def _measure(self, speed_kmh: float) -> None:
        """Cadence and step length over the window; None until it spans the whole window (a
        shorter one is too few whole steps to tell a short step from the counter's rounding)."""
        (t0, s0), (t1, s1) = self._window[0], self._window[-1]
        span = t1 - t0
        if span < self._window_s * 0.9 or s1 <= s0:
            self.cadence_spm = self.step_length_m = None
            return
        self.cadence_spm = (s1 - s0) / span * 60
        self.step_length_m = speed_kmh / 3.6 * span / (s1 - s0)

    def _restart(self, speed_kmh: float | None) -> None:
        self._speed_kmh = speed_kmh
        self._first = None
        self._window.clear()
        self._low_since = None
        self.cadence_spm = self.step_length_m = None


class StatusVerdict(enum.Enum):
    ignore = "ignore"  # nothing the belt's safety depends on
    pause_echo = "pause_echo"  # the machine confirms one of our Pauses
    safety_key = "safety_key"  # the safety key was pulled: stop
    console_stop = "console_stop"  # someone stopped or paused at the console: stop
    control_lost = "control_lost"  # the machine withdrew our control: fault stop


class StatusWatch:
    """Machine statuses, judged by op code, and the pause echoes still due.

    One "paused" status per Pause we wrote is its echo. Any other one (a "stopped" status, or a
    Pause pressed at the console, even while we hold the belt paused) is someone at the console,
    and that ends the session, as it does while running: a turn-around's resume must never
    restart a belt the walker paused there. Before the start, only the safety key counts."""

    def __init__(self, echo_window_s: float = PAUSE_ECHO_WINDOW_S) -> None:
        self._echo_window_s = echo_window_s
        # Deadlines of the pause echoes still due, one per Pause written: each "paused" status
        # uses up one; any further one is someone at the console.
        self._echoes_due: deque[float] = deque()

    def pause_written(self, now: float) -> None:
        """One of our Pauses is about to leave at `now`: its echo is due within the window."""
        self._echoes_due.append(now + self._echo_window_s)

    def verdict(
        self,
        opcode: MachineStatusOpCode,
        control: StopControl | None,
        *,
        started: bool,
        now: float,
    ) -> StatusVerdict:
        if opcode is MachineStatusOpCode.stopped_by_safety_key:
            return StatusVerdict.safety_key
        if opcode is MachineStatusOpCode.stopped_or_paused_by_user and started:
            if control == "pause" and self._take_echo(now):
                return StatusVerdict.pause_echo
            return StatusVerdict.console_stop
        if opcode is MachineStatusOpCode.control_permission_lost and started:
            return StatusVerdict.control_lost
        return StatusVerdict.ignore

    def _take_echo(self, now: float) -> bool:
        """Use up the oldest echo still due; False when none is (the console's pause)."""
        while self._echoes_due and self._echoes_due[0] < now:
            self._echoes_due.popleft()  # that Pause was never echoed
        if not self._echoes_due:
            return False
        self._echoes_due.popleft()
        return True
