"""Which module defines each command (one module per command), in the order `--help` lists them.

The app imports a command's module only when that command is needed: `retrotread decode ...`
loads and builds `decode` alone, `--help` all of them. A test checks that each module registers
the command it is listed under.
"""

COMMAND_MODULES: dict[str, str] = {
    "config": "retrotread.cli.config_cmd",
    "decode": "retrotread.cli.decode_cmd",
    "info": "retrotread.cli.info_cmd",
    "programs": "retrotread.cli.programs_cmd",
    "run": "retrotread.cli.run_cmd",
    "scan": "retrotread.cli.scan_cmd",
    "stop": "retrotread.cli.stop_cmd",
}
