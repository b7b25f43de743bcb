"""Case-insensitive searches, fast on ASCII text.  Pure (stdlib only).

Python's ``re`` folds the case of every character it compares under ``re.IGNORECASE``; a
pattern of many words tried at every position of a clause (the cheap first checks before
the real patterns: "does this clause name a time at all?") spends most of its time doing
that.  On ASCII text, searching the lower-cased text with the same pattern compiled
without the flag finds a match exactly where the case-insensitive one does: ``lower()``
keeps an ASCII text's length (so offsets are the same), turns no non-word character into a
word character, and an ASCII character matches a lower-case pattern letter ignoring case
exactly when its lower-case form is that letter.  Text with any other character (where
re pairs "\u017f" with "s" and lower() turns "\u0130" into two characters) is searched
with the case-insensitive pattern as before.

That holds only for a pattern whose letters are all lower case, with no case-sensitive
part and no non-ASCII letter that folds to an ASCII one: :class:`Caseless` checks this
when it is built, so a pattern edited later cannot silently change what it finds.
"""

from __future__ import annotations

import re
import sys

__all__ = ["Caseless"]

# An escape: a letter after a backslash is an escape's name (\b, \s, \W), not a letter to match.
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|N\{[^}]*\}|.)", re.DOTALL)
# A group's name ("(?P<event>", "(?P=event)") is no letter to match either.
_GROUP_NAME = re.compile(r"\?P(?:<\w+>|=\w+)")


def _folds_to_ascii(char: str) -> bool:
    """Whether a non-ASCII character is the same as an ASCII letter ignoring case (Kelvin
    sign and k, long s and s, dotless and dotted i)."""
    return any(other.isascii() and other.isalpha() for other in char.lower() + char.upper())


def _check(pattern: str) -> None:
    if "(?-i" in pattern:
        raise ValueError(
            f"Caseless: a case-sensitive part would match lower-cased text: {pattern!r}"
        )
    letters = []
    for piece in _ESCAPE.findall(pattern):
        if piece[1:2] in "ux" and len(piece) > 2:
            letters.append(chr(int(piece[2:], 16)))
    letters.extend(_GROUP_NAME.sub("", _ESCAPE.sub("", pattern)))
    for char in letters:
        if char.isascii() and char.isupper():
            raise ValueError(f"Caseless: upper-case {char!r} in {pattern!r}; write it lower-case")
        if not char.isascii() and _folds_to_ascii(char):
            raise ValueError(f"Caseless: {char!r} folds to an ASCII letter in {pattern!r}")


class Caseless:
    """A case-insensitive pattern, searched on lower-cased text when the text is ASCII."""

    __slots__ = ("_lower", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        _check(pattern)
        self.pattern = re.compile(pattern, flags | re.IGNORECASE)
        self._lower = re.compile(pattern, flags & ~re.IGNORECASE)

    def found(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> bool:
        """Whether ``self.pattern.search(text, pos, endpos)`` finds a match."""
        if text.isascii():
            return self._lower.search(text.lower(), pos, endpos) is not None
        return self.pattern.search(text, pos, endpos) is not None
