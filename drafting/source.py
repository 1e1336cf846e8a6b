"""A notice's text as the importer reads it: from UTF-8 text, HTML or a PDF's text layer, normalised (full-width
forms, traditional characters, Chinese numerals before units), and cut into sentences that keep their place in it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cn2an
import opencc
from bs4 import BeautifulSoup

# Chinese numerals directly before a unit that counts or dates something ("二〇二五年", "五个工作日", "一式三份").
_NUMERAL = re.compile(r"[〇零一二三四五六七八九十百两]+(?=年|月|日|号|时|点|分|个?工作日|天|份|万元|项|名|个月|周)")
_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
MAX_BYTES = 5_000_000
_UNFOLDED = str.maketrans({"∶": ":", "︰": ":", "〜": "~", "－": "-", "―": "—"})  # forms NFKC leaves alone
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SIMPLIFIED = opencc.OpenCC("t2s")  # reprinted notices come in traditional characters (網上申報截止時間)
_DATE_WORDS = re.compile(r"工作日|星期.|周[一二三四五六日]|[年月日号时点分至到前止]")


class NoticeError(Exception):
    """A notice that cannot be read: one line naming the file and why."""


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Notice:
    """The normalised text of a notice and its sentences (spans index into `text`)."""

    origin: str
    text: str
    sentences: tuple[Sentence, ...]

    def sentence_at(self, position: int) -> Sentence:
        return next((s for s in self.sentences if s.start <= position < s.end), self.sentences[-1])

    def context(self, start: int, end: int) -> str:
        """The sentence of a span; when it says little else (a date alone on its line, a table cell), the one or
        two sentences before it too (the heading the date stands under)."""
        k = next((i for i, s in enumerate(self.sentences) if s.start <= start < s.end), len(self.sentences) - 1)
        own = self.sentences[k].text
        rest = _DATE_WORDS.sub("", own)
        if len(_CJK.findall(rest)) >= 6:
            return own
        return " ".join(s.text for s in self.sentences[max(0, k - 2):k + 1])


def normalise(raw: str) -> str:
    """NFKC (full-width digits, colons, brackets become ASCII), traditional characters become simplified, then
    Chinese numerals before units become digits, keeping every other character in place (一带一路 stays)."""
    text = _SIMPLIFIED.convert(unicodedata.normalize("NFKC", raw).replace("\r\n", "\n").translate(_UNFOLDED))

    def digits(m: re.Match[str]) -> str:
        try:
            return str(cn2an.cn2an(m.group(0), "smart"))
        except (ValueError, KeyError):
            return str(cn2an.transform(m.group(0), "cn2an"))

    return _NUMERAL.sub(digits, text)


def sentences(text: str) -> tuple[Sentence, ...]:
    return tuple(Sentence(m.start(), m.end(), m.group(0)) for m in _SENTENCE.finditer(text) if m.group(0).strip())


def from_text(raw: str, origin: str = "<text>") -> Notice:
    text = normalise(raw)
    if not text.strip():
        raise NoticeError(f"{origin}: the notice has no text")
    return Notice(origin, text, sentences(text))


def read_notice(path: Path) -> Notice:
    """A notice file: .html/.htm as HTML, .pdf through its text layer, anything else as UTF-8 text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoticeError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise NoticeError(f"{path}: {len(data):,} bytes; a notice is at most {MAX_BYTES:,}")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        raw = BeautifulSoup(data, "html.parser").get_text("\n")
    elif suffix == ".pdf":
        raw = _pdf_text(path)
    else:
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoticeError(f"{path}: not UTF-8 text (byte {exc.start}); save the page as UTF-8") from None
    return from_text(raw, str(path))


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    except PdfReadError as exc:
        raise NoticeError(f"{path}: not a readable PDF: {exc}") from None
    if not text.strip():
        raise NoticeError(f"{path}: the PDF has no text layer (a scan); copy the notice's text from its web page")
    return text
