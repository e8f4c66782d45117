"""Which module defines each command (one module per command), in the order `--help` lists them.

The app imports a command's module only when that command is needed: `retrotread decode ...`
loads and builds `decode` alone. `--help` lists every command from `COMMAND_SUMMARIES` without
importing or building any. Tests check that each module registers the command it is listed
under, and that each summary is the short help its command would give.
"""

COMMAND_MODULES: dict[str, str] = {
    "coach": "retrotread.cli.coach_cmd",
    "config": "retrotread.cli.config_cmd",
    "decode": "retrotread.cli.decode_cmd",
    "export": "retrotread.cli.export_cmd",
    "history": "retrotread.cli.history_cmd",
    "info": "retrotread.cli.info_cmd",
    "plot": "retrotread.cli.export_cmd",
    "programs": "retrotread.cli.programs_cmd",
    "rate": "retrotread.cli.history_cmd",
    "run": "retrotread.cli.run_cmd",
    "scan": "retrotread.cli.scan_cmd",
    "show": "retrotread.cli.history_cmd",
    "stop": "retrotread.cli.stop_cmd",
}

# The first sentence of each command's help, as `retrotread --help` lists it.
COMMAND_SUMMARIES: dict[str, str] = {
    "config": "The effective settings and where each came from (default, file, environment).",
    "decode": "Decode one FTMS characteristic value (or a strap's heart-rate measurement) as JSON.",
    "info": "Features, target-setting features, supported speed and incline ranges.",
    "programs": (
        "List the built-in programs, or show one (or a plan file, checked) with its segments."
    ),
    "run": "Start an auto-paced backward session.",
    "scan": (
        "List FTMS treadmills nearby: address, name, RSSI, machine types; then heart-rate "
        "straps (for --hr-device)."
    ),
    "stop": "Emergency stop: every running session on this machine, through its control socket.",
    "history": "Past sessions from the journal, newest first.",
    "show": "One past session in detail: segments, commands, safety events, totals.",
    "rate": "Record how hard a session felt (Borg 6-20) after the fact; the latest rating counts.",
    "export": "A session as a file Strava, Garmin Connect or a spreadsheet accepts.",
    "plot": "Speed, target and heart rate over time, direction and safety events marked (PNG).",
    "coach": "The next session, suggested from your past sessions, as a plan.",
}
