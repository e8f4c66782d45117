"""Console entry point.

This module must stay free of module-level imports: `retrotread stop` is what a person types when
something is wrong, and every import here delays the Stop that reaches the belt. The plain stop is
handed to a stdlib-only fast path; everything else loads the typer app lazily.
"""


def main() -> None:
    import sys

    argv = sys.argv[1:]
    if argv[:1] == ["stop"]:
        from retrotread.cli import stop_fast

        code = stop_fast.try_fast_stop(argv[1:])
        if code is not None:
            raise SystemExit(code)
    from retrotread.cli.app import run

    raise SystemExit(run(argv))
