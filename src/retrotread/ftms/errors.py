"""The codec's own errors. Decoders raise only FtmsDecodeError, whatever bytes they are given."""

from __future__ import annotations


class FtmsDecodeError(ValueError):
    """Bytes that are truncated or impossible; `offset` is the index of the first byte at fault."""

    def __init__(self, what: str, offset: int, message: str) -> None:
        super().__init__(f"{what}: {message} at byte {offset}")
        self.what = what
        self.offset = offset


class FtmsEncodeError(ValueError):
    """A value that the characteristic cannot carry (out of its field's range, NaN, ...)."""


class HexFormatError(ValueError):
    """A hex string that is not an even number of hex digits (spaces and colons allowed)."""
