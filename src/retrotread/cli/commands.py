"""Which module defines each command (one module per command), in the order `--help` lists them.

The app imports a command's module only when that command is needed: `retrotread decode ...`
loads and builds `decode` alone, `--help` all of them. A test checks that each module registers
the command it is listed under.
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
