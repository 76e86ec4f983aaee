"""Resident ID numbers (GB 11643-1999), phone numbers, and how both are masked.

An 18-digit ID is a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit sequence
whose last digit is odd for men and even for women, and a check digit: the weighted sum of the first
17 digits with weights 2^(17-i) mod 11, mapped through ``CHECK_DIGITS``.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import numpy.typing as npt

from lianfang.people.choices import Sex

WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_DIGITS = "10X98765432"
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def check_digit(first17: str) -> str:
    """The GB 11643 check digit of the first 17 digits."""
    total = sum(int(ch) * int(w) for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_DIGITS[total % 11]


def id_problem(number: str) -> tuple[str, str] | None:
    """Why an ID number is invalid (Chinese, English), or None when it is valid."""
    if len(number) != 18 or not number[:17].isdigit() or not number.isascii():
        return "应为18位，前17位为数字", "must be 18 characters, the first 17 digits"
    if number[17] not in "0123456789X":
        return "第18位应为数字或X", "the 18th character must be a digit or X"
    if check_digit(number[:17]) != number[17]:
        return "校验码不符", "the check digit does not match"
    if birth_date(number) is None:
        return "出生日期无效", "the birth date in it is not a real date"
    return None


def bad_id_mask(numbers: list[str]) -> npt.NDArray[np.bool_]:
    """For many normalised ID numbers at once: True where the form or check digit is wrong
    (dates are checked separately)."""
    arr = np.array(numbers, dtype="U18")
    wellformed = np.char.str_len(arr) == 18
    raw = np.char.encode(np.where(wellformed, arr, "0" * 18), "ascii", "replace").view(np.uint8)
    digits = raw.reshape(-1, 18).astype(np.int64) - 48
    body_ok = ((digits[:, :17] >= 0) & (digits[:, :17] <= 9)).all(axis=1)
    expected = np.frombuffer(CHECK_DIGITS.encode(), dtype=np.uint8)[(digits[:, :17] @ WEIGHTS) % 11]
    bad: npt.NDArray[np.bool_] = ~(wellformed & body_ok & (expected == raw.reshape(-1, 18)[:, 17]))
    return bad


def normalise_id(raw: str) -> str:
    """An ID as typed (spaces, lower-case x) in its canonical form."""
    return raw.strip().replace(" ", "").upper()


def birth_date(number: str) -> date | None:
    """The birth date written in an 18-digit ID, or None if it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex_of(number: str) -> Sex:
    """The sex written in an 18-digit ID (17th digit odd for men)."""
    return Sex.male if int(number[16]) % 2 else Sex.female


def normalise_phone(raw: str) -> str:
    """A phone number as typed, without spaces and the +86 prefix."""
    phone = raw.strip().replace(" ", "").replace("－", "-")
    return phone.removeprefix("+86").removeprefix("0086")


def phone_ok(phone: str) -> bool:
    """True for a mainland mobile (11 digits from 13–19) or a landline with area code."""
    return bool(MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone))


def mask_id(number: str) -> str:
    """An ID with only its first 6 and last 4 characters shown."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * 6


def mask_phone(phone: str) -> str:
    """A phone with only its first 3 and last 4 digits shown (138****5678)."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def is_masked(value: str) -> bool:
    """True when a value came out of a masked export."""
    return "*" in value


def age_on(born: date, day: date) -> int:
    """Age in whole years on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
