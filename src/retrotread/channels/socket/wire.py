"""The control socket's line format, written once and spoken by both ends.

One JSON object per line, UTF-8, at most `MAX_LINE_BYTES`: requests `{"cmd": "stop"}`,
`{"cmd": "pause"}`, `{"cmd": "status"}` (SPEC.md "Local control socket"); answers
`{"ok": true, ...}`. A stop may ask for a receipt (`"receipt": true`): the session answers one
line as soon as the stop is latched, then the acknowledgement, so `retrotread stop` can tell a
live session from a silent one at once.

`decode` reads that grammar (RFC 8259 plus Python's NaN and Infinity) with builtins only: the
stop fast path must not import `json` (with `re` and `enum` it would double the process's
time), nor `typing`. `encode` is for the server, which has `json` anyway.
"""

MAX_LINE_BYTES = 1024
STOP_REQUEST = b'{"cmd": "stop", "receipt": true}\n'


def encode(message: dict[str, object]) -> bytes:
    """One line for `message`."""
    import json

    return json.dumps(message).encode() + b"\n"


def decode(line: bytes) -> object:
    """One JSON value from `line`, as `json.loads` would read it; ValueError if it is not one."""
    text = line.decode()  # UnicodeDecodeError is a ValueError
    value, end = _value(text, _skip(text, 0), 0)
    if _skip(text, end) != len(text):
        raise ValueError("extra data after the JSON value")
    return value


_MAX_DEPTH = 32
_WHITESPACE = " \t\n\r"
_DIGITS = "0123456789"
_HEX_DIGITS = "0123456789abcdefABCDEF"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = (
    ("true", True),
    ("false", False),
    ("null", None),
    ("NaN", float("nan")),
    ("Infinity", float("inf")),
    ("-Infinity", float("-inf")),
)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _value(text: str, i: int, depth: int) -> tuple[object, int]:
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deep")
    char = text[i : i + 1]
    if char == '"':
        return _string(text, i + 1)
    if char == "{":
        return _object(text, i + 1, depth + 1)
    if char == "[":
        return _array(text, i + 1, depth + 1)
    for literal, value in _LITERALS:
        if text.startswith(literal, i):
            return value, i + len(literal)
    return _number(text, i)


def _object(text: str, i: int, depth: int) -> tuple[dict[str, object], int]:
    result: dict[str, object] = {}
    i = _skip(text, i)
    if text[i : i + 1] == "}":
        return result, i + 1
    while True:
        if text[i : i + 1] != '"':
            raise ValueError(f"expected a key at {i}")
        key, i = _string(text, i + 1)
        i = _skip(text, i)
        if text[i : i + 1] != ":":
            raise ValueError(f"expected ':' at {i}")
        result[key], i = _value(text, _skip(text, i + 1), depth)
        i = _skip(text, i)
        char = text[i : i + 1]
        if char == "}":
            return result, i + 1
        if char != ",":
            raise ValueError(f"expected ',' or '}}' at {i}")
        i = _skip(text, i + 1)


def _array(text: str, i: int, depth: int) -> tuple[list[object], int]:
    result: list[object] = []
    i = _skip(text, i)
    if text[i : i + 1] == "]":
        return result, i + 1
    while True:
        value, i = _value(text, i, depth)
        result.append(value)
        i = _skip(text, i)
        char = text[i : i + 1]
        if char == "]":
            return result, i + 1
        if char != ",":
            raise ValueError(f"expected ',' or ']' at {i}")
        i = _skip(text, i + 1)


def _string(text: str, i: int) -> tuple[str, int]:
    """The string whose opening quote is just before `i`, and the index after its closing one."""
    parts: list[str] = []
    while True:
        quote = text.find('"', i)
        if quote < 0:
            raise ValueError("unterminated string")
        backslash = text.find("\\", i, quote)
        end = quote if backslash < 0 else backslash
        raw = text[i:end]
        if any(char < " " for char in raw):
            raise ValueError("control character in a string")
        parts.append(raw)
        if backslash < 0:
            return "".join(parts), quote + 1
        kind = text[backslash + 1 : backslash + 2]
        if kind == "u":
            code, i = _hex4(text, backslash + 2)
            if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):
                low, after = _hex4(text, i + 2)
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i = after
            parts.append(chr(code))
        elif kind in _ESCAPES:
            parts.append(_ESCAPES[kind])
            i = backslash + 2
        else:
            raise ValueError(f"bad escape at {backslash}")


def _hex4(text: str, i: int) -> tuple[int, int]:
    digits = text[i : i + 4]
    if len(digits) != 4 or not all(char in _HEX_DIGITS for char in digits):
        raise ValueError(f"bad \\u escape at {i}")
    return int(digits, 16), i + 4


def _digits(text: str, i: int) -> int:
    """The index after the ASCII digits starting at `i` (str.isdigit would take any script's)."""
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    return i


def _number(text: str, i: int) -> tuple[int | float, int]:
    """-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as int when it has neither part."""
    start = i + 1 if text[i : i + 1] == "-" else i
    end = _digits(text, start)
    whole = text[start:end]
    if not whole or (len(whole) > 1 and whole[0] == "0"):
        raise ValueError(f"not a JSON value at {i}")
    is_float = False
    if text[end : end + 1] == ".":
        after = _digits(text, end + 1)
        if after == end + 1:
            raise ValueError(f"bad number at {i}")
        end, is_float = after, True
    if text[end : end + 1] in ("e", "E"):
        exponent = end + 2 if text[end + 1 : end + 2] in ("+", "-") else end + 1
        after = _digits(text, exponent)
        if after == exponent:
            raise ValueError(f"bad number at {i}")
        end, is_float = after, True
    token = text[i:end]
    return (float(token) if is_float else int(token)), end
