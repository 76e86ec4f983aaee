"""Enumerations shared by tables, pages, maps and charts: each value has a label and a colour."""

from __future__ import annotations

import enum
from typing import Self

from lianfang.i18n import Text, current_language


class Choice(enum.StrEnum):
    """A stored value with a label (``_()``, shown in the current language) and a colour."""

    text: Text
    colour: str

    def __new__(cls, value: str, text: Text, colour: str = "#5470c6") -> Self:
        if not isinstance(text, Text):  # the old ("value", "中文", "English") form
            raise TypeError(f"{cls.__name__}.{value}: the label is one _() message")
        member = str.__new__(cls, value)
        member._value_ = value
        member.text = text
        member.colour = colour
        return member

    @classmethod
    def of(cls, value: str) -> Self:
        """The member stored as ``value``."""
        return cls._value2member_map_[value]  # type: ignore[return-value]

    def label(self, language: str | None = None) -> str:
        """The label in the given language (the current one by default)."""
        return self.text.in_language(language or current_language())

    @property
    def zh(self) -> str:
        """The label in Chinese."""
        return self.text.in_language("zh")

    @property
    def en(self) -> str:
        """The label in English."""
        return self.text.in_language("en")
