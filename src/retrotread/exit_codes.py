"""The exit codes of SPEC.md, as plain ints. No imports: the stop fast path reads them too."""

SUCCESS = 0  # run: program completed and the belt seen stopped; stop: a stop was acknowledged
NO_SESSION = 1  # stop: no session running, and no --device / --mqtt given
BAD_INPUT = 2  # bad plan, config, env var, hex string or flag: nothing started
STOPPED = 3  # run: ended by a stop other than completion (estop, safety, console, fault)
NO_CONNECTION = 4  # no adapter or treadmill, control refused, device or broker unreachable
HANGUP = 129  # run: SIGHUP, after the belt was stopped
INTERRUPTED = 130  # run: Ctrl-C (SIGINT), after the belt was stopped
TERMINATED = 143  # run: SIGTERM, after the belt was stopped
