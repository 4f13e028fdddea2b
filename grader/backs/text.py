"""Learner text made inert before any report shows it.

What the child produced (printed output, exception messages, returned type names, file names) is
untrusted: printed raw to a terminal, ``\\x1b[2J`` clears the screen, ``\\x1b]0;...\\x07`` retitles
the window, ``\\x1b]52;c;...\\x07`` writes the clipboard, ``\\r`` and backspace overwrite the verdict
with a fake one, and U+202E reverses what follows. Every such character is shown as an escape instead
(``\\x1b``, ``\\u202e``); newlines and tabs are kept, so tracebacks still read as tracebacks.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 controls but tab and newline, DEL, C1 controls (0x9b is a CSI)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides and isolates
    "\u2028\u2029\ufeff\ufff9-\ufffb]"  # line/paragraph separators, BOM, interlinear annotations
)


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every control, bidi or invisible formatting character written as an escape."""
    return _UNSAFE.sub(_escape, text)
