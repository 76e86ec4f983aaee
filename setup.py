"""The package build also compiles the message catalogues (``.po`` to ``.mo``)."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path("lianfang") / "locale"


class BuildWithCatalogues(build_py):
    """Build the package, then write each catalogue's compiled ``.mo`` next to its ``.po``."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        # an editable install runs from src/, so the .mo goes there; a wheel gets it in build/
        root = Path("src") if self.editable_mode else Path(self.build_lib)
        for po in sorted((Path("src") / LOCALE).glob("*/LC_MESSAGES/*.po")):
            target = root / po.relative_to("src")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as handle:
                catalog = read_po(handle)
            with target.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog)


setup(cmdclass={"build_py": BuildWithCatalogues})
