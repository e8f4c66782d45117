"""The only holder of the treadmill's control point, and every rule between a session and the belt.

- `limits`: the bands, the device grid in the device's own unit, ramps, incline rounding (pure).
- `watch`: verdicts on what the treadmill reports, time passed in (pure): overspeed, heart rate,
  machine statuses and pause echoes.
- `latch`: the belt's state machine (one `BeltState`, named transitions, the gate that holds back
  every moving write once a stop latched) and the one stop procedure.
- `supervisor`: the facade a session drives (start, resume, set_target, set_incline, pause,
  request_stop, stop, wait_ended).
- `foreign_belt`: stop a belt we did not start, on the same stop procedure.
"""
