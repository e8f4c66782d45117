"""Plain-text tables for the commands that list things (`programs`, `history`, `show`): columns
padded to their widest cell, two spaces apart, no trailing blanks. Stdlib only: `history` on an
unchanged data dir stays cheap."""


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
