"""How personal numbers are masked wherever they are shown or logged, without the heavy parts of
``people.identity`` (the CLI and the log filter import this).

An ID number masked keeps its first 6 characters (the address code, which the person's village
already says) and its check character; the 8 birth-date digits and the 3 sequence digits are
hidden. With the age, sex and village shown beside it, some 16,000 valid numbers fit what is seen
(365 birth dates × 500 sequences of the right sex ÷ 11 check characters): a masked list cannot be
turned back into numbers. A phone keeps its first 3 and last 4 digits.
"""

from __future__ import annotations

import re

ID_SHOWN_HEAD = 6
ID_LENGTH = 18
ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
LANDLINE_IN_TEXT = re.compile(r"(?<![0-9])0[0-9]{2,3}-[0-9]{7,8}(?![0-9])")


def mask_id(number: str) -> str:
    """An ID with only its first 6 characters and its check character shown."""
    if len(number) <= ID_SHOWN_HEAD + 1:
        return "*" * 6
    return number[:ID_SHOWN_HEAD] + "*" * (len(number) - ID_SHOWN_HEAD - 1) + number[-1]


def mask_phone(phone: str) -> str:
    """A phone with only its first 3 and last 4 digits shown (138****5678)."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def is_masked(value: str) -> bool:
    """True when a value came out of a masked export."""
    return "*" in value


def scrub(text: str) -> str:
    """Text (a log line, a traceback, an error message) with every ID number and phone number in
    it masked."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = ID_IN_TEXT.sub(lambda m: mask_id(m[0]), text)
    text = MOBILE_IN_TEXT.sub(lambda m: mask_phone(m[0]), text)
    return LANDLINE_IN_TEXT.sub(lambda m: mask_phone(m[0]), text)
