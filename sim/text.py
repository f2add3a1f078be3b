"""Text from users (names, paths, values) made safe to print on a terminal.

A scenario name or a file name may hold terminal escape sequences (``ESC [ 2 J`` clears the
screen) or characters that reorder text on screen (bidirectional overrides). Every command
prints such text escaped, as Python writes it in a string literal: ``\\x1b[2J``, ``\\u202e``.
"""

import re

#: C0 and C1 control characters, DEL, and the bidirectional embeddings, overrides and isolates.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\n``): one safe line."""
    return UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], str(text))


def printable_lines(text: str) -> str:
    """Like `printable`, but keeps the line breaks of a multi-line report."""
    return "\n".join(printable(line) for line in text.split("\n"))
