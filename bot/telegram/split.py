"""Telegram edge: a long Telegram HTML message → parts under the length limit.

Pure. Cuts on paragraph boundaries, then lines, then words, never inside a tag or
an entity; tags open at a cut are closed at the end of the part and reopened at
the start of the next, so every part stands on its own. Lengths are counted in
UTF-16 code units, as Telegram counts them, and each part keeps under Telegram's
limit of formatted spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 4096  # Telegram's maximum message length
MAX_ENTITIES = 100  # Telegram's maximum number of formatted spans in one message

_TOKEN = re.compile(
    r"(?P<tag><(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
    r"|(?P<space>\s+)"
    r"|(?P<char>.)",
    re.DOTALL,
)
PARAGRAPH, LINE, WORD, ANYWHERE = 3, 2, 1, 0  # where a message may be cut, best first


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    cut: int = ANYWHERE  # for white space: the kind of boundary it is
    opens: str = ""  # tag name, for an opening tag
    closes: str = ""  # tag name, for a closing tag


def _tokens(text: str) -> list[_Token]:
    """Tags, entities and white space as single tokens; any other character alone."""
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if match.group("tag"):
            name = match.group("name").lower()
            tokens.append(
                _Token(piece, closes=name) if match.group("close") else _Token(piece, opens=name)
            )
        elif match.group("space"):
            newlines = piece.count("\n")
            tokens.append(
                _Token(piece, cut=PARAGRAPH if newlines > 1 else LINE if newlines else WORD)
            )
        else:
            tokens.append(_Token(piece))
    return tokens


def _width(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), never less than len()."""
    return len(text.encode("utf-16-le")) // 2


class _Splitter:
    """Greedy packing of token ranges; a range is a part with its open tags re-balanced."""

    def __init__(self, tokens: list[_Token], limit: int, max_entities: int) -> None:
        self.tokens, self.limit, self.max_entities = tokens, limit, max_entities
        self.width = [0]  # prefix sums of token widths
        self.entities = [0]  # prefix sums of opening tags
        self.stacks: list[tuple[_Token, ...]] = [()]  # tags open before each token
        stack: tuple[_Token, ...] = ()
        for token in tokens:
            self.width.append(self.width[-1] + _width(token.text))
            self.entities.append(self.entities[-1] + bool(token.opens))
            if token.opens:
                stack = (*stack, token)
            elif token.closes and token.closes in (tag.opens for tag in stack):
                names = [tag.opens for tag in stack]
                stack = stack[: len(names) - 1 - names[::-1].index(token.closes)]
            self.stacks.append(stack)

    def fits(self, start: int, end: int) -> bool:
        reopen, close = self.stacks[start], self.stacks[end]
        width = sum(_width(tag.text) for tag in reopen) + self.width[end] - self.width[start]
        width += sum(len(tag.opens) + 3 for tag in close)
        entities = len(reopen) + self.entities[end] - self.entities[start]
        return width <= self.limit and entities <= self.max_entities

    def render(self, start: int, end: int) -> str:
        reopen = "".join(tag.text for tag in self.stacks[start])
        body = "".join(token.text for token in self.tokens[start:end])
        close = "".join(f"</{tag.opens}>" for tag in reversed(self.stacks[end]))
        return reopen + body + close

    def visible(self, start: int, end: int) -> bool:
        return any(
            not (token.opens or token.closes or token.text.isspace())
            for token in self.tokens[start:end]
        )

    def pack(self, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """Ranges covering [start, end), cut at boundaries of `level`, lower ones if needed."""
        if level == ANYWHERE:
            return self.hard_cut(start, end)
        parts: list[tuple[int, int]] = []
        current: tuple[int, int] | None = None
        for piece_start, piece_end in self.pieces(start, end, level):
            if current and self.fits(current[0], piece_end):
                current = (current[0], piece_end)
                continue
            if current:
                parts.append(current)
                current = None
            if self.fits(piece_start, piece_end):
                current = (piece_start, piece_end)
            else:
                parts.extend(self.pack(piece_start, piece_end, level - 1))
        if current:
            parts.append(current)
        return parts

    def pieces(self, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """The non-empty ranges between white space of at least `level`."""
        found, begin = [], start
        for index in range(start, end):
            if self.tokens[index].cut >= level:  # only white space has a cut level
                if index > begin:
                    found.append((begin, index))
                begin = index + 1
        if end > begin:
            found.append((begin, end))
        return found

    def hard_cut(self, start: int, end: int) -> list[tuple[int, int]]:
        """A range without white space, cut between characters, tags and entities."""
        parts = []
        while start < end:
            stop = start + 1
            while stop < end and self.fits(start, stop + 1):
                stop += 1
            while stop - 1 > start and self.tokens[stop - 1].opens:
                stop -= 1  # an opening tag belongs with the text it formats
            parts.append((start, stop))
            start = stop
        return parts


def split_message(
    text: str, limit: int = MESSAGE_LIMIT, *, max_entities: int = MAX_ENTITIES
) -> list[str]:
    """Telegram HTML cut into parts of at most `limit` characters and `max_entities` tags.

    Cuts fall between paragraphs (blank lines) where possible, else between lines,
    else between words, else between characters — never inside a tag or an entity;
    the white space at a cut is dropped. Tags open at a cut are closed at the end of
    the part and reopened at the start of the next. Parts with no visible text are
    dropped. ValueError when the markup alone cannot fit (a link longer than `limit`).
    """
    splitter = _Splitter(_tokens(text), limit, max_entities)
    end = len(splitter.tokens)
    if splitter.fits(0, end):
        return [text] if splitter.visible(0, end) else []
    ranges = splitter.pack(0, end, PARAGRAPH)
    parts = [splitter.render(a, b) for a, b in ranges if splitter.visible(a, b)]
    for part in parts:
        if _width(part) > limit:
            raise ValueError(f"cannot split a message into parts of {limit} characters")
    return parts
