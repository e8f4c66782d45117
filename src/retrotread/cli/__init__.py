"""Console entry point.

This module must stay free of module-level imports: `retrotread stop` is what a person types when
something is wrong, and every import here delays the Stop that reaches the belt. The plain stop is
handed to a stdlib-only fast path, a lone `--version` is answered here, and everything else loads
the typer app lazily.
"""


def version_line() -> str:
    """`retrotread <version>` from the installed package's metadata (the one place the version
    is written is pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"retrotread {version('retrotread')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "retrotread (version unknown: not installed)"


def _has_option(args: list[str]) -> bool:
    return any(arg.startswith("-") for arg in args)


def _decode(kind: str, hex_text: str) -> int:
    import json
    import sys

    from retrotread.decode import decode
    from retrotread.errors import InputError

    try:
        print(json.dumps(decode(kind, hex_text)))
    except InputError as err:
        sys.stderr.write(f"retrotread: error: {err}\n")
        return err.exit_code
    return 0


def main() -> None:
    """Run one command; Ctrl-C at any point before a command takes over its own handling (while
    the heavy libraries load, say, in the first tenth of a second) ends with one line and exit
    130, the shell's code for "interrupted", not a KeyboardInterrupt traceback. Nothing was
    started yet, and a session that has started stops its belt in its own signal handler."""
    import sys

    try:
        argv = sys.argv[1:]
        if argv == ["--version"]:  # answered without loading the app (the typer option is alike)
            print(version_line())
            raise SystemExit(0)
        if argv[:1] == ["decode"] and len(argv) >= 3 and not _has_option(argv[1:]):
            # `decode KIND HEX...` alone: answered without loading typer (its import is most
            # of a decode's time), the same use case as the typer command.
            raise SystemExit(_decode(argv[1], " ".join(argv[2:])))
        if argv[:1] == ["stop"]:
            from retrotread.cli import stop_fast

            code = stop_fast.try_fast_stop(argv[1:])
            if code is not None:
                raise SystemExit(code)
        from retrotread.cli.app import run

        code = run(argv)
    except KeyboardInterrupt:
        if sys.stderr is not None:  # None when started with descriptor 2 closed
            sys.stderr.write("retrotread: interrupted\n")
        code = 130
    raise SystemExit(code)
