"""Where a phrase is printed on a page: the anchor search templates, the layout fingerprint and
template induction share (consecutive words of one line, case and accents aside)."""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts import Page, Word

GAP_BREAK = 3.0  # a horizontal gap of this many word heights ends a value


@dataclass(frozen=True)
class Span:
    """A run of words on one page, in reading order."""

    page: Page
    idx: list[int]
    rank: tuple[bool, ...] = ()  # of an anchor: how well it reads as the label (lower is better)

    @property
    def words(self) -> list[Word]:
        return [self.page.words[i] for i in self.idx]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def fold(token: str) -> str:
    return token.lower().strip(":#.")


# Folded tokens per line of the pages read lately (id -> (page, lines, where each token stands)):
# every anchor phrase of every field looks through the same lines, and folding them once per
# phrase made a page of a few thousand words cost seconds.
_FOLDED: dict[int, tuple[Page, list[list[str]], dict[str, list[tuple[int, int]]]]] = {}
_FOLDED_PAGES = 64


def _folded(page: Page) -> tuple[Page, list[list[str]], dict[str, list[tuple[int, int]]]]:
    entry = _FOLDED.get(id(page))
    if entry is None or entry[0] is not page:
        if len(_FOLDED) >= _FOLDED_PAGES:
            _FOLDED.pop(next(iter(_FOLDED)))
        lines = [[fold(page.words[i].text) for i in line.words] for line in page.lines]
        places: dict[str, list[tuple[int, int]]] = {}
        for n, tokens in enumerate(lines):
            for start, token in enumerate(tokens):
                places.setdefault(token, []).append((n, start))  # in reading order: line, then place
        entry = (page, lines, places)
        _FOLDED[id(page)] = entry
    return entry



def find_anchors(page: Page, phrase: str) -> list[Span]:
    """Every place where ``phrase`` is printed as consecutive words of one line (case and accents
    aside); first where it starts a label of its own ("Total:" before the "Total:" of "Net
    Total:"), then where it is printed exactly as written ("Invoice" before the title "INVOICE")."""
    wanted = [fold(t) for t in phrase.split()]
    if not wanted:
        return []
    _page, lines, places = _folded(page)
    found = []
    for n, start in places.get(wanted[0], ()):
        tokens, line = lines[n], page.lines[n]
        if tokens[start:start + len(wanted)] == wanted:
            end = start + len(wanted)
            # A lone ":" or "#" printed after the label belongs to the label.
            while end < len(tokens) and not tokens[end] and page.words[line.words[end]].text.strip():
                end += 1
            first = page.words[line.words[start]]
            inside = start > 0 and first.bbox[0] - page.words[line.words[start - 1]].bbox[2] \
                <= GAP_BREAK * (first.bbox[3] - first.bbox[1])
            printed = " ".join(page.words[i].text for i in line.words[start:start + len(wanted)])
            found.append(Span(page, line.words[start:end], (inside, printed != phrase)))
    return sorted(found, key=lambda span: span.rank)
