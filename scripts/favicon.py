"""Render src/lianfang/web/static/favicon.svg into favicon.ico (16 and 32 px PNG images) in
Debian's Chromium, so the icon is drawn with the same CJK font as the pages.

    PYTHONPATH=src python scripts/favicon.py
"""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parents[1] / "src" / "lianfang" / "web" / "static"
SIZES = (16, 32)


def ico(images: list[tuple[int, bytes]]) -> bytes:
    """An .ico file holding PNG images (each as (size, png))."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, data = b"", b""
    for size, png in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        data += png
    return header + entries + data


def main() -> None:
    svg = (STATIC / "favicon.svg").read_text(encoding="utf-8")
    images = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace('width="32" height="32"', f'width="{size}" height="{size}"', 1)
            page.set_content(f"<body style='margin:0;background:transparent'>{sized}</body>")
            images.append((size, page.screenshot(omit_background=True)))
            page.close()
        browser.close()
    (STATIC / "favicon.ico").write_bytes(ico(images))
    print(f"wrote {STATIC / 'favicon.ico'}")


if __name__ == "__main__":
    main()
