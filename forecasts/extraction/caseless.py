"""Case-insensitive searches without case folding.  Pure (stdlib only).

Python's ``re`` folds the case of every character it compares under ``re.IGNORECASE``; a
pattern of many words tried at every position of a clause (the cheap first checks before
the real patterns: "does this clause name a time at all?") spends most of its time doing
that.  Searching the lower-cased text with the same pattern compiled without the flag
finds a match exactly where the case-insensitive one does, for a pattern whose letters are
all ASCII and lower case, in any text without one of the four characters of
:data:`_UNSAFE`: for every other character ``lower()`` gives one character (so offsets are
the same) of the same kind (word, space, digit), and a character matches a lower-case
ASCII letter ignoring case exactly when its lower-case form is that letter.  The four are
"\u0130" (lower() gives two characters) and "\u0131", "\u017f", "\u212a" (re pairs them
with "i", "s" and "k"); ``tests/extraction/test_caseless.py`` checks every character.
Text with one of them is searched with the case-insensitive pattern as before.

:class:`Caseless` checks its pattern when it is built (no upper-case letter, no
case-sensitive part, no cased letter outside ASCII), so a pattern edited later cannot
silently change what it finds.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

__all__ = ["Caseless", "foldable"]

# The characters for which lower-casing and re's case folding disagree (see above).
_UNSAFE = re.compile("[\u0130\u0131\u017f\u212a]")
# An escape: a letter after a backslash is an escape's name (\b, \s, \W), not a letter to match.
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|N\{[^}]*\}|.)", re.DOTALL)
# A group's name ("(?P<event>", "(?P=event)") is no letter to match either.
_GROUP_NAME = re.compile(r"\?P(?:<\w+>|=\w+)")


def foldable(text: str) -> bool:
    """Whether a pattern of lower-case ASCII letters finds on ``text.lower()``, at the same
    offsets, what it finds on ``text`` ignoring case."""
    return text.isascii() or _UNSAFE.search(text) is None


def _cased(char: str) -> bool:
    return char.lower() != char or char.upper() != char


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
        if not char.isascii() and _cased(char):
            raise ValueError(f"Caseless: {char!r} is a cased letter outside ASCII in {pattern!r}")


class Caseless:
    """A case-insensitive pattern, searched on the lower-cased text when that text is
    :func:`foldable` (almost always)."""

    __slots__ = ("_lower", "needs", "pattern")

    def __init__(self, pattern: str, flags: int = 0, *, needs: tuple[str, ...] = ()) -> None:
        """``needs``: words every match holds one of, as written in the pattern (lower
        case); a lower-cased text with none of them is not searched (``found`` only)."""
        _check(pattern)
        for word in needs:
            if not word:
                raise ValueError("Caseless: an empty word in needs")
            _check(re.escape(word))
        self.pattern = re.compile(pattern, flags | re.IGNORECASE)
        self._lower = re.compile(pattern, flags & ~re.IGNORECASE)
        self.needs = needs

    def found(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> bool:
        """Whether ``self.pattern.search(text, pos, endpos)`` finds a match."""
        if foldable(text):
            lowered = text.lower()
            if self.needs and not any(word in lowered for word in self.needs):
                return False
            return self._lower.search(lowered, pos, endpos) is not None
        return self.pattern.search(text, pos, endpos) is not None

    def search(self, text: str) -> re.Match[str] | None:
        """``self.pattern.search(text)``, except that the match may be of the lower-cased
        text: the same offsets, but its groups may be lower-cased."""
        if foldable(text):
            return self._lower.search(text.lower())
        return self.pattern.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """``self.pattern.finditer(text)``, except that the matches may be of the
        lower-cased text: the same offsets, but their groups may be lower-cased."""
        if foldable(text):
            return self._lower.finditer(text.lower())
        return self.pattern.finditer(text)
