"""User text made safe for a spreadsheet: no control characters, no formula triggers, valid sheet titles.

A spreadsheet runs a cell as a formula when its text starts with ``=`` (and, on entry or CSV import, ``+``,
``-``, ``@``, a tab or a carriage return; OWASP "CSV injection"). The renderer writes every string as a text
cell, which no spreadsheet evaluates; text starting with a trigger (or a line break, behind which a formula
could hide) also gets the quote-prefix flag, so editing the cell and pressing enter keeps it text.
"""

from __future__ import annotations

import re
import unicodedata

#: first characters a spreadsheet may take as the start of a formula (full-width forms included)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: longest text a cell holds (Excel's limit)
MAX_CELL_CHARS = 32_767
#: characters a sheet title may not contain, and its longest length (Excel's rules)
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_TITLE_CHARS = 31
#: characters kept although they are controls: line breaks and tabs are layout in notes
_KEPT_CONTROLS = frozenset("\t\n\r")
#: bidirectional embeddings, overrides and isolates (they make text read differently from what it holds),
#: and the two non-characters XML forbids
_DROPPED = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe\uffff")


def clean_text(text: str) -> str:
    """``text`` without control characters (tabs and line breaks kept, line breaks as ``\\n``, which is what
    a spreadsheet reads back), lone surrogates, bidirectional overrides and XML non-characters, cut to a
    cell's limit."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        ch
        for ch in text
        if ch in _KEPT_CONTROLS or (ch not in _DROPPED and unicodedata.category(ch) not in ("Cc", "Cs"))
    )
    return kept[:MAX_CELL_CHARS]


def needs_quote_prefix(text: str) -> bool:
    """Whether ``text`` (after leading spaces) starts like a formula."""
    return text.lstrip(" ").startswith(FORMULA_TRIGGERS)


def sheet_title(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A valid, unique sheet title from any text: forbidden characters replaced, at most 31 characters,
    no leading or trailing apostrophe, not blank, not ``History`` (reserved), not one of ``taken``
    (compared case-insensitively, as spreadsheets do)."""
    title = _TITLE_FORBIDDEN.sub("_", " ".join(clean_text(text).split())).strip("'").strip()
    title = title[:MAX_TITLE_CHARS].strip() or "Sheet"
    if title.casefold() == "history":
        title = "History_"
    lowered = {t.casefold() for t in taken}
    base, n = title, 2
    while title.casefold() in lowered:
        suffix = f" ({n})"
        title = base[: MAX_TITLE_CHARS - len(suffix)] + suffix
        n += 1
    return title
