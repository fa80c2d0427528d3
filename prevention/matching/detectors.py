"""The generic checks: personal data and disclosures found without a watch list.

Generic checks (check_text with generic=True)
----------------------------------------------
Email addresses; phone numbers ("+" or "00" international forms of 9 to 15 digits;
national forms of 9 to 12 digits starting with 0 or an area code in brackets, or
written in three or more groups), not dates, runs of years, IP addresses, amounts of money or
numbers grouped in thousands; IBANs of a known country's length with a valid mod-97
checksum; payment card numbers (13 to 19 digits of a card network's prefix passing the
Luhn check); and "I work at … and we're about to …" disclosures: a first-person
statement of employment near (within the paragraph, about 200 characters) a mention of
internal matters (unannounced launches, layoffs, mergers, confidential figures). They
are conservative: a miss is likelier than a false alarm.
"""

from __future__ import annotations

import bisect

import regex

from prevention.matching.explanations import CARD, CHECKS, DISCLOSURE, EMAIL, IBAN, PHONE
from prevention.matching.findings import Finding, finding_order, without_overlaps
from prevention.matching.limits import text_end

_EMAIL_RE = regex.compile(
    r"(?<![\w.+\-])[\w+\-](?:[\w.+\-]{0,63})@[\w\-]+(?:\.[\w\-]+)*\.\p{L}{2,24}(?![\w\-@])"
)
_IBAN_RE = regex.compile(r"(?<![\w])[A-Z]{2}[0-9]{2}(?:\x20?[A-Z0-9]){11,32}", regex.IGNORECASE)
_CARD_RE = regex.compile(r"(?<![\w+.,/\-])\d(?:[\x20\-]?\d){12,18}(?![\w]|[.,/\-]\d)")
_PHONE_RE = regex.compile(
    r"(?<![\w+/.,%$€£¥₹\-])(?:\+\x20?|\()?\d[\d\x20\u00a0().\-]{6,26}\d(?![\w]|[.,:/\-]\d|\x20?%)"
)
_PHONE_SEPARATORS = regex.compile(r"[\x20\u00a0.\-]+")
_PHONE_DOUBLE_SEPARATOR = regex.compile(r"[\x20\u00a0.\-]{2,}")
_PARAGRAPH = regex.compile(r"\n[\x20\t\r]*\n")

# Country -> IBAN length (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# "I work at …", "as an employee of …", "at my company …": someone says where they work.
_EMPLOYMENT_RE = regex.compile(
    r"""\b(?:
        i\s+(?:currently\s+|now\s+|still\s+|also\s+)?work\s+(?:at|for)\s
      | i(?:['’]m|\s+am)\s+(?:currently\s+|now\s+)?
        (?:employed\s+(?:at|by)|an?\s+employee\s+(?:of|at))\s
      | as\s+an?\s+(?:employee|insider|staff\s+member)\s+(?:of|at)\s
      | (?:at|in)\s+my\s+(?:company|employer|firm|workplace|job|office)\b
      | my\s+(?:employer|company|firm|boss|manager)\b
      | (?:i|we)\s+(?:both\s+)?work\s+here\b
      | our\s+company\b
    )""",
    regex.IGNORECASE | regex.VERBOSE,
)
_PLANS = "launch|announce|release|unveil|ship|acquire|buy|sell|merge|close|cut|restructure"
_DOING = (
    "launching|announcing|releasing|unveiling|shipping|acquiring|buying|selling|merging|"
    "closing|cutting|restructuring|reorgani[sz]ing|launch|announce|release|unveil"
)
# Something about the employer's internal matters: plans not announced, cuts, deals,
# confidential figures. Past tense and public news ("we launched", "we're hiring") are not.
_INTERNAL_RE = regex.compile(
    r"""\b(?:
        (?:we|they|company|it|team)(?:['’]re|['’]s|\s+are|\s+is)\s+(?:just\s+)?about\s+to\b
      | (?:going|planning|set)\s+to\s+(?:PLANS|lay\s+off|reorgani[sz]e)\b
      | (?:we|they)(?:['’]re|['’]ll|\s+are|\s+will)\s+(?:\w+\s+)?(?:DOING)\b
      | (?:internally|confidential|unannounced|codename|code\s+name|roadmap)\b
      | internal\s+(?:memo|e-?mail|document|plans?|news|figures|numbers|slides?|data|only)\b
      | not\s+(?:yet\s+)?(?:public|announced|official|released)\b
      | under\s+(?:nda|wraps)\b | nda\b | off\s+the\s+record | between\s+you\s+and\s+me
      | don['’]?t\s+tell | can['’]?t\s+say\s+(?:much|more) | leak(?:ed|ing)?\b
      | lay\s*-?\s*offs?\b | laying\s+off | redundanc(?:y|ies)\b | restructuring
      | merger\b | acquisition\b | takeover\b | buyout\b
      | (?:earnings|revenue|profits?|quarterly\s+(?:results|figures|numbers)|sales\s+figures)\b
    )""".replace("PLANS", _PLANS).replace("DOING", _DOING),
    regex.IGNORECASE | regex.VERBOSE,
)
_CARD_PREFIXES = (
    ("4",),
    tuple(str(n) for n in range(51, 56)),
    tuple(str(n) for n in range(2221, 2721)),
    ("34", "37", "30", "36", "38", "39", "35", "6011", "65", "62"),
    tuple(str(n) for n in range(644, 650)),
)
_CARD_PREFIXES = tuple(prefix for group in _CARD_PREFIXES for prefix in group)
_CURRENCY_BEFORE = set("$€£¥₹")
_CURRENCY_AFTER = regex.compile(
    r"[\x20\u00a0]?(?:[$€£¥₹%]|(?:eur|usd|gbp|chf|jpy|dollars?|euros?|pounds?|francs?)\b)",
    regex.IGNORECASE,
)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _emails(text: str, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _EMAIL_RE.finditer(text, 0, end)]


def _ibans(text: str, end: int) -> list[tuple[int, int]]:
    found, position = [], 0
    while True:
        match = _IBAN_RE.search(text, position, end)
        if match is None:
            return found
        position = match.start() + 1
        candidate = match.group().upper()
        length = IBAN_LENGTHS.get(candidate[:2])
        if length is None:
            continue
        chars, stop = [], match.start()
        for offset, char in enumerate(candidate):
            if char != " ":
                chars.append(char)
                if len(chars) == length:
                    stop = match.start() + offset + 1
                    break
        if len(chars) < length or (stop < len(text) and text[stop].isalnum()):
            continue
        if _iban_valid("".join(chars)):
            found.append((match.start(), stop))
            position = stop


def _cards(text: str, end: int) -> list[tuple[int, int]]:
    found = []
    for match in _CARD_RE.finditer(text, 0, end):
        candidate = match.group()
        separators = {char for char in candidate if not char.isdigit()}
        if len(separators) > 1:
            continue
        digits = candidate.replace(" ", "").replace("-", "")
        if len(set(digits)) == 1 or not digits.startswith(_CARD_PREFIXES):
            continue
        if _luhn(digits):
            found.append(match.span())
    return found


def _phone_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of a phone number candidate if it is one, else None."""
    if text[start] == "(" and text.count(")", start, end) == 0:
        start += 1  # "(020 7946 0958)": the bracket is the sentence's
    candidate = text[start:end]
    digits = sum(char.isdigit() for char in candidate)
    if not 9 <= digits <= 15:
        return None
    opening, closing = candidate.find("("), candidate.find(")")
    if candidate.count("(") > 1 or candidate.count("(") != candidate.count(")"):
        return None
    if opening > closing:
        return None
    body = candidate.lstrip("+").replace(" - ", "-").replace("(", " ").replace(")", " ")
    body = " ".join(body.split())
    if _PHONE_DOUBLE_SEPARATOR.search(body):
        return None
    groups = [group for group in _PHONE_SEPARATORS.split(body) if group]
    separators = set(_PHONE_SEPARATORS.findall(body))
    if "." in "".join(separators):
        # 01.23.45.67.89, but not 3.14159265 or an IP address
        if separators != {"."} or body.count(".") < 2:
            return None
        if len(groups) == 4 and all(len(group) <= 3 for group in groups):
            return None
    if len(groups) > 1 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
        return None  # years: "2019 2020 2021"
    before = text[max(0, start - 6) : start].rstrip()
    if before and (before[-1] in _CURRENCY_BEFORE or before.lower().endswith("isbn")):
        return None
    if _CURRENCY_AFTER.match(text, end):
        return None
    if candidate.startswith(("+", "00")):
        return start, end
    if digits > 12:  # national numbers are shorter: this is an account or reference number
        return None
    if candidate.startswith("("):
        return start, end
    if candidate.startswith("0"):
        return (start, end) if len(groups) > 1 or 10 <= digits <= 11 else None
    # Written in groups without a trunk prefix: 415 555 2671, but not 100 000 000.
    thousands = len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
    return (start, end) if len(groups) >= 3 and not thousands else None


def _phones(text: str, end: int) -> list[tuple[int, int]]:
    spans = (_phone_span(text, *m.span()) for m in _PHONE_RE.finditer(text, 0, end))
    return [span for span in spans if span]


def _disclosures(text: str, end: int) -> list[tuple[int, int]]:
    found = []
    for employment in _EMPLOYMENT_RE.finditer(text, 0, end):
        low = max(0, employment.start() - 200)
        high = min(end, employment.end() + 200)
        # Within the paragraph only.
        for paragraph in _PARAGRAPH.finditer(text, low, high):
            if paragraph.end() <= employment.start():
                low = paragraph.end()
            elif paragraph.start() >= employment.end():
                high = paragraph.start()
                break
        cues = list(_INTERNAL_RE.finditer(text, low, high))
        if not cues:
            continue
        nearest = min(cues, key=lambda cue: abs(cue.start() - employment.start()))
        found.append(
            (min(employment.start(), nearest.start()), max(employment.end(), nearest.end()))
        )
    return found


def generic_findings(text: str) -> list[Finding]:
    """The generic checks' findings (no watch list), sorted by start."""
    limit = text_end(text)
    findings = []
    # Places already reported, sorted and not overlapping: (starts, ends).
    starts: list[int] = []
    ends: list[int] = []
    for rule, spans in (
        (IBAN, _ibans(text, limit)),
        (CARD, _cards(text, limit)),
        (EMAIL, _emails(text, limit)),
        (PHONE, _phones(text, limit)),
    ):
        for start, end in without_overlaps(spans):
            at = bisect.bisect_left(starts, end)
            if at and ends[at - 1] > start:
                continue  # inside a number already reported as something stronger
            starts.insert(at, start)
            ends.insert(at, end)
            findings.append(CHECKS[rule].finding(text, start, end))
    for span in without_overlaps(_disclosures(text, limit)):
        findings.append(CHECKS[DISCLOSURE].finding(text, *span))
    findings.sort(key=finding_order)
    return findings
