"""Resident ID numbers (GB 11643-1999), phone numbers, and how both are masked.

An 18-digit ID is a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit sequence
whose last digit is odd for men and even for women, and a check digit: the weighted sum of the first
17 digits with weights 2^(17-i) mod 11, mapped through ``CHECK_DIGITS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lianfang import timeutil
from lianfang.people.choices import Sex
from lianfang.pii import is_masked as is_masked  # masking lives in lianfang.pii
from lianfang.pii import mask_id as mask_id
from lianfang.pii import mask_phone as mask_phone

WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_DIGITS = "10X98765432"
PHONE_PATTERN = r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}"
"""A mainland mobile (11 digits from 13–19) or a landline with its area code, ASCII digits."""
PHONE = re.compile(PHONE_PATTERN, re.ASCII)
EARLIEST_BIRTH = date(1900, 1, 1)
"""No one registered was born before this; an earlier date in an ID or a cell is a typing error."""


def check_digit(first17: str) -> str:
    """The GB 11643 check digit of the first 17 digits."""
    total = sum(int(ch) * int(w) for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_DIGITS[total % 11]


def id_problem(number: str, today: date | None = None) -> tuple[str, str] | None:
    """Why an ID number is invalid (Chinese, English), or None when it is valid (``today``
    bounds its birth date: the application's today when not given)."""
    if len(number) != 18 or not number[:17].isdigit() or not number.isascii():
        return "应为18位，前17位为数字", "must be 18 characters, the first 17 digits"
    if number[17] not in "0123456789X":
        return "第18位应为数字或X", "the 18th character must be a digit or X"
    if check_digit(number[:17]) != number[17]:
        return "校验码不符", "the check digit does not match"
    born = birth_date(number)
    if born is None:
        return "出生日期无效", "the birth date in it is not a real date"
    return birth_problem(born, today)


def birth_problem(born: date, today: date | None = None) -> tuple[str, str] | None:
    """Why a birth date cannot be a registered person's (before 1900 or after today), or None."""
    if born < EARLIEST_BIRTH:
        return (f"出生日期 {born} 早于 {EARLIEST_BIRTH}",
                f"the birth date {born} is before {EARLIEST_BIRTH}")  # fmt: skip
    if born > (today or timeutil.today()):
        return f"出生日期 {born} 在未来", f"the birth date {born} is in the future"
    return None


@dataclass(frozen=True)
class IdColumn:
    """What many ID numbers say at once: which are valid (form, check digit and a real birth
    date between ``EARLIEST_BIRTH`` and today) and, for those, the birth date and sex written
    in them."""

    numbers: pa.Array
    valid: npt.NDArray[np.bool_]
    born: npt.NDArray[np.datetime64]  # NaT where the number is invalid
    male: npt.NDArray[np.bool_]
    order: npt.NDArray[np.int64]
    """A key that sorts valid numbers as their text sorts: the first 17 digits as one number
    (all are 18 characters and the 18th follows from the first 17). -1 where invalid."""


MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
PLACES = 10 ** np.arange(16, -1, -1, dtype=np.int64)  # the first 17 digits' place values


def read_ids(numbers: pa.Array, today: date | None = None) -> IdColumn:
    """Check normalised ID numbers column-wise, in C: the same verdict as ``id_problem``.

    Digits stay bytes, and sums run as float32 (exact: every sum here is far below 2^24), so
    that a city's 1.75M numbers take no int64 temporaries of 18 columns."""
    size = len(numbers)
    fixed = pc.equal(pc.binary_length(numbers), 18).to_numpy(zero_copy_only=False)
    raw = _bytes(numbers.filter(pa.array(fixed)), 18)
    body = raw[:, :17] - np.uint8(48)  # a non-digit wraps to above 9
    body_ok = (body <= 9).all(axis=1)
    weighted = (body.astype(np.float32) @ WEIGHTS.astype(np.float32)).astype(np.int64)
    expected = np.frombuffer(CHECK_DIGITS.encode(), dtype=np.uint8)[weighted % 11]
    date_digits = body[:, 6:14].astype(np.float32) @ np.array(
        [[1000, 0, 0], [100, 0, 0], [10, 0, 0], [1, 0, 0], [0, 10, 0], [0, 1, 0], [0, 0, 10],
         [0, 0, 1]], dtype=np.float32,
    )  # fmt: skip
    year, month, day = date_digits.astype(np.int32).T
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    longest = MONTH_DAYS[np.clip(month - 1, 0, 11)] + (leap & (month == 2))
    real = (year >= 1) & month_ok & (day >= 1) & (day <= longest)
    written = year * 10000 + month * 100 + day  # YYYYMMDD orders as the dates do
    real &= (written >= _yyyymmdd(EARLIEST_BIRTH)) & (
        written <= _yyyymmdd(today or timeutil.today())
    )
    ok = body_ok & (expected == raw[:, 17]) & real
    valid = np.zeros(size, dtype=bool)
    valid[fixed] = ok
    born = np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
    born[np.flatnonzero(fixed)[ok]] = (
        (year[ok] - 1970).astype("datetime64[Y]").astype("datetime64[M]")
        + (month[ok] - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (day[ok] - 1).astype("timedelta64[D]")
    male = np.zeros(size, dtype=bool)
    male[fixed] = body[:, 16] % 2 == 1
    order = np.full(size, -1, dtype=np.int64)
    order[np.flatnonzero(fixed)[ok]] = body[ok].astype(np.int64) @ PLACES
    return IdColumn(numbers=numbers, valid=valid, born=born, male=male & valid, order=order)


def _yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _bytes(strings: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """Strings all ``width`` bytes long as a (rows, width) array of bytes, without copying."""
    if len(strings) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset :]
    data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[0] + width * len(strings)].reshape(-1, width)


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
    return bool(PHONE.fullmatch(phone))


def canonical_phones(cells: pa.Array) -> npt.NDArray[np.bool_]:
    """For many stripped cells at once: True where the cell is already a valid phone exactly as
    ``normalise_phone`` would write it (blank included), so it needs no parsing of its own."""
    written = pc.match_substring_regex(cells, f"^(?:{PHONE_PATTERN})?$")
    return np.asarray(written.to_numpy(zero_copy_only=False), dtype=bool)


def age_on(born: date, day: date) -> int:
    """Age in whole years on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
