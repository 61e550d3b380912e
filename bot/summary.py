"""Summaries: an article's title, lead and body → a few lines in the article's own language.

In: the title, the publisher's lead (sapo / og:description) when there is one, the
extracted body text and the article's language. Out: at most `max_chars` characters —
the lead when it is sensible, otherwise the opening sentences of the body — with outlet
prefixes ("TĐO –", "TCCS -", "(Chinhphu.vn) -"), photo captions, credit lines and page
furniture removed, cut on a sentence boundary. Nothing is translated. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

MIN_LEAD_CHARS = 60  # a shorter "lead" is a kicker or a label, not a summary
ENOUGH_CHARS = 160  # stop at the end of a paragraph once the summary is this long
HEADING_CHARS = 100  # a shorter line without final punctuation is a heading

# Outlet codes and names that open a lead ("TĐO – …"), compared case-sensitively.
OUTLETS = frozenset(
    {
        "TĐO", "TCCS", "NDO", "VOV", "VOV.VN", "VOV.vn", "VNA", "TTXVN", "VGP", "QĐND",
        "SGGP", "VTV", "VTV.vn", "BQT", "TG&VN", "VNF", "PLO", "NLĐO", "CAND", "ANTĐ",
        "TTO", "ĐBND", "HNM", "VnExpress", "VietnamPlus", "Vietnam+", "Dân trí",
        "Báo Quốc tế", "Thời Đại", "Nhân Dân", "Tạp chí Cộng sản", "Baoquocte.vn",
        "Chinhphu.vn", "Vietnam Times", "Nhan Dan", "Communist Review",
    }
)  # fmt: skip

# Abbreviations after which a full stop does not end a sentence ("Dr. Lan", "No. 5").
# Single letters (initials) and dotted runs of these ("U.S.", "PGS.TS.") count too. The
# list-closing ones in _LIST_ENDINGS ("dll.", "etc.", "v.v.") do end a sentence before a
# capital letter.
_ABBREVIATIONS = {
    "en": "mr mrs ms dr prof st no nos jr sr gen col lt capt rev fig art vol pp ed "
    "cf approx dept univ assoc govt jan feb mar apr jun jul aug sep sept oct nov dec",
    "id": "dr drs dra prof no st jl hj ir sdr bpk ny tn kol let jend mayjen brigjen "
    "kab kec kel prov yth",
    "vi": "tp ts pgs gs ths bs ks tx tt dr no mr ms st",
}
_ALL_ABBREVIATIONS = frozenset(" ".join(_ABBREVIATIONS.values()).split())
_LIST_ENDINGS = frozenset({"dll", "dsb", "dst", "dkk", "etc", "v.v", "vv"})

_CREDIT_WORDS = r"(?:Foto|Sumber foto|Sumber|Ảnh|Photo|Nguồn|Source|Credit)"
_CREDIT_PAREN = re.compile(rf"\(\s*{_CREDIT_WORDS}\s*:[^()]*\)", re.IGNORECASE)
_CAPTION_END = re.compile(
    rf"(?:\(\s*{_CREDIT_WORDS}\s*:[^()]*\)|_{_CREDIT_WORDS}\s*:.*)\W*$", re.IGNORECASE
)
_FURNITURE = (
    re.compile(r"^!\[[^\]]*\]\([^)]*\)"),  # markdown image
    re.compile(r"^\||\|$"),  # table-row captions of vietnam.vn copies
    re.compile(rf"^{_CREDIT_WORDS}\s*:\s*(?:https?://\S+|.{{0,60}})$", re.IGNORECASE),
    re.compile(r"^(?:Komentar|Bình luận|Comments?)\s*\(\d+\)$", re.IGNORECASE),
    re.compile(r"^Vietnam\.vn\s*[-–—]", re.IGNORECASE),  # the republisher's header
    re.compile(r"^(?P<outlet>\D{2,60}?)(?P=outlet)\s*\d{1,2}/\d{1,2}/\d{4}$"),  # byline
    re.compile(r"^[^.!?]{0,60}\b\d{1,2}/\d{1,2}/\d{4}(?:\s+\d{1,2}:\d{2})?$"),  # dateline
    re.compile(r"^\S+\.(?:jpe?g|png|gif|webp)$", re.IGNORECASE),  # a bare image file
)
_BOILERPLATE_LEAD = re.compile(
    r"nền tảng quảng bá|tin tức (?:mới|nóng)|đọc báo|latest news|breaking news|"
    r"berita terkini|berita terbaru|all rights reserved|bản quyền|©|https?://",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^(?P<head>[^\n]{1,48}?)\s*[-–—]{1,2}\s+(?=\S)")
_AGENCY_DATELINE = re.compile(r"\(\s*[A-ZĐ][\w&+./]{1,15}\s*\)$")
_DOMAIN = re.compile(r"[\w.-]+\.(?:vn|com|org|net)", re.IGNORECASE)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+")
_OPENERS = "\"'“‘«([-–—"
_TERMINAL = ".!?…\"'”’»)]"


def summarize(
    *, title: str, lead: str | None, text: str, language: str, max_chars: int = 400
) -> str:
    """The lead if it is sensible, else the body's opening sentences; ≤ max_chars."""
    title = _normalize(title)
    cleaned = _clean_lead(lead) if lead else ""
    if _sensible_lead(cleaned, title):
        return _fit(split_sentences(cleaned, language), max_chars)
    sentences = list(_opening_sentences(_normalize(text), title, language, max_chars))
    if not sentences and cleaned and not _BOILERPLATE_LEAD.search(cleaned):
        # No body to speak of: a short lead still beats an empty summary.
        sentences = split_sentences(cleaned, language)
    return _fit(sentences, max_chars)


def split_sentences(text: str, language: str) -> list[str]:
    """Sentences of one paragraph, keeping abbreviations, initials and numbers whole."""
    abbreviations = _abbreviations(language)
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _ends_sentence(text, match, abbreviations):
            sentences.append(text[start : match.end()].strip())
            start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def strip_outlet_prefix(text: str) -> str:
    """Drop an opening outlet credit or dateline such as "TĐO – " or "Hanoi (VNA) – "."""
    match = _PREFIX.match(text)
    if match and _is_outlet(match.group("head").strip()):
        return text[match.end() :]
    return text


def _is_outlet(head: str) -> bool:
    if head in OUTLETS or _AGENCY_DATELINE.search(head):
        return True
    if head.startswith("(") and head.endswith(")"):
        return True
    if _DOMAIN.fullmatch(head):
        return True
    # An all-capitals dateline of two or three words: "HÀ NỘI", "HO CHI MINH CITY".
    words = head.split()
    return 2 <= len(words) <= 3 and head == head.upper() and head != head.lower()


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\xa0", " ").replace("\r", "")
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _clean_lead(lead: str) -> str:
    lead = " ".join(_normalize(lead).split())
    return _tidy(_CREDIT_PAREN.sub("", strip_outlet_prefix(lead)))


def _tidy(text: str) -> str:
    """Collapse spaces, including the stray ones vietnam.vn copies leave ("Hanoi ,")."""
    return " ".join(re.sub(r"\s+([,.;:!?])(?=\s|$)", r"\1", text).split())


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _sensible_lead(lead: str, title: str) -> bool:
    if len(lead) < MIN_LEAD_CHARS or _BOILERPLATE_LEAD.search(lead):
        return False
    lead_key, title_key = _key(lead), _key(title)
    # A copy of the title, perhaps with the site's name appended, says nothing new.
    return not (lead_key.startswith(title_key) and len(lead_key) - len(title_key) < 40)


def _is_furniture(line: str) -> bool:
    return any(pattern.search(line) for pattern in _FURNITURE) or bool(_CAPTION_END.search(line))


def _is_heading(paragraph: str) -> bool:
    return len(paragraph) < HEADING_CHARS and not paragraph.endswith(tuple(_TERMINAL))


def _paragraphs(text: str, title: str) -> Iterator[str]:
    """The body's content paragraphs: furniture and a repeated title dropped."""
    title_key = _key(title)
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or _is_furniture(line) or (title_key and _key(line) == title_key):
            continue
        yield _tidy(_CREDIT_PAREN.sub("", strip_outlet_prefix(line)))


def _opening_sentences(text: str, title: str, language: str, max_chars: int) -> Iterator[str]:
    """Sentences from the first paragraphs, stopping at a paragraph end once enough."""
    length = 0
    for paragraph in _paragraphs(text, title):
        if _is_heading(paragraph):
            if length:
                return
            continue
        for sentence in split_sentences(paragraph, language):
            yield sentence
            length += len(sentence) + 1
            if length > max_chars:
                return
        if length >= ENOUGH_CHARS:
            return


def _abbreviations(language: str) -> frozenset[str]:
    words = _ABBREVIATIONS.get(language)
    return frozenset(words.split()) if words else _ALL_ABBREVIATIONS


def _ends_sentence(text: str, match: re.Match[str], abbreviations: frozenset[str]) -> bool:
    following = text[match.end() :].lstrip(_OPENERS)
    if not following or not (following[0].isupper() or following[0].isdigit()):
        return False
    if text[match.start()] != "." or match.group().startswith(".."):
        return True
    before = text[: match.start()].rsplit(maxsplit=1)
    token = before[-1].lstrip(_OPENERS).casefold() if before else ""
    if token in _LIST_ENDINGS:
        return True
    # "Dr.", "No.", an initial ("J. Smith"), or dotted ones: "U.S.", "PGS.TS.".
    return not all(len(part) == 1 or part in abbreviations for part in token.split(".") if part)


def _fit(sentences: list[str], max_chars: int) -> str:
    """As many whole sentences as fit; a clean word cut with an ellipsis otherwise."""
    summary = ""
    for sentence in sentences:
        candidate = f"{summary} {sentence}" if summary else sentence
        if len(candidate) > max_chars:
            break
        summary = candidate
    if summary or not sentences:
        return summary
    return _truncate(sentences[0], max_chars)


def _truncate(sentence: str, max_chars: int) -> str:
    cut = sentence[:max_chars]
    if len(sentence) > max_chars and not sentence[max_chars].isspace():
        cut = cut.rsplit(maxsplit=1)[0] if " " in cut else cut
    cut = cut.rstrip(" ,;:-–—(\"'“‘")
    while len(cut) + 1 > max_chars and " " in cut:
        cut = cut.rsplit(maxsplit=1)[0].rstrip(" ,;:-–—(\"'“‘")
    return f"{cut}…"
