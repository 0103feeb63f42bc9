"""Text from outside shown in a terminal: the one escape for it.

A path, a document id, an edit list's text or an error message quoting any of them can hold rich markup
(``[/x]``, which breaks or restyles a print) and terminal control sequences (``ESC [2J`` clears the screen,
``ESC ]0;...BEL`` retitles the window). `shown` makes such text safe to put in a rich markup string;
`printable` makes it safe to put in a `rich.text.Text`, which reads no markup but passes control
characters to the terminal as they are.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 and C1 control characters and DEL, what a terminal may act on instead of showing; and lone surrogates
# (a file name's undecodable bytes), which no terminal encoding can write
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
LAYOUT = "\n\r\t"  # what a text's own layout uses: kept where a whole text is shown (rich drops a lone CR)


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` written out as an escape, as Python writes it.

    >>> printable("a\\x1b[2Jb\\tc"), printable("line\\nnext\\x9b", keep="\\n"), printable("caf\\udcff")
    ('a\\\\x1b[2Jb\\\\tc', 'line\\nnext\\\\x9b', 'caf\\\\udcff')
    """
    return CONTROL_RE.sub(lambda m: m[0] if m[0] in keep else NAMED.get(m[0], _escape(m[0])), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object) -> str:
    """``text`` made safe to put in a rich markup string: control characters written out, markup escaped.

    >>> shown("d[/x].txt"), shown("\\x1b]0;owned\\x07")
    ('d\\\\[/x].txt', '\\\\x1b]0;owned\\\\x07')
    """
    return escape(printable(str(text)))


def text_shown(text: str) -> str:
    """A whole text (lines, tabs and all) made safe to put in a `rich.text.Text`: other control characters written out.

    >>> text_shown("one\\n\\x1b[2Jtwo")
    'one\\n\\\\x1b[2Jtwo'
    """
    return printable(text, keep=LAYOUT)
