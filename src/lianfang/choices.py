"""Enumerations shared by tables, pages, maps and charts: each value carries labels and a colour."""

from __future__ import annotations

import enum
from typing import Self


class Choice(enum.StrEnum):
    """A stored value with a Chinese label, an English label and a display colour."""

    zh: str
    en: str
    colour: str

    def __new__(cls, value: str, zh: str, en: str, colour: str = "#5470c6") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        member.en = en
        member.colour = colour
        return member

    @classmethod
    def of(cls, value: str) -> Self:
        """The member stored as ``value``."""
        return cls._value2member_map_[value]  # type: ignore[return-value]

    def label(self, language: str = "zh") -> str:
        """The label in the given language."""
        return self.zh if language == "zh" else self.en
