"""Text cells a spreadsheet would run as a formula, and how a report keeps them text (OWASP, "CSV Injection").

A cell whose first character is `=`, `+`, `-` or `@` (or their full-width forms, which some spreadsheets read
the same way), a tab or a carriage return can start a formula when the file is opened. Such a cell gets a
leading apostrophe: spreadsheets show the rest as text, and a person reading the file sees what was there.
Only text a person or a provider typed (addresses, references, notes, ids, statuses) is neutralised; an amount
never is (amounts are never negative, so an amount never starts with one of these).
"""

from __future__ import annotations

# The first characters that make a cell a formula, in the order OWASP lists them, then the full-width forms.
FORMULA_STARTERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NEUTRALISING_PREFIX = "'"


def neutralised(text: str | None) -> str | None:
    """The cell as a report writes it: unchanged, or with the apostrophe in front when it would be a formula."""
    if text and text[0] in FORMULA_STARTERS:
        return NEUTRALISING_PREFIX + text
    return text
