"""Importing this module registers every command on the app (one module per command)."""

from retrotread.cli import (  # noqa: F401
    decode_cmd,
    info_cmd,
    programs_cmd,
    run_cmd,
    scan_cmd,
    stop_cmd,
)
