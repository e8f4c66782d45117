"""Placeholder for the stdlib-only stop path (issue 5)."""


def try_fast_stop(argv: list[str]) -> int | None:
    return None
