"""A picture of the page: ``python -m gpt2spec.page.screenshot report.html docs/page.png``.

Opens a page that ``pytest --spec-report report.html`` wrote in headless Chromium (Debian's
``chromium`` package, or Chrome), gives its scripts a virtual 30 s to unpack their libraries and
draw, and saves the top of the page, at the window size given, as a PNG. docs/page.png is made so.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Headless, no sandbox (root in a container), and nothing that reaches the network: the page is self-contained.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]  # fmt: skip
BUDGET_MS = 30000  # virtual time for the page's scripts: the figures draw well within it


def shoot(page: Path, png: Path, width: int = 1000, height: int = 1300) -> None:
    """Chromium's own screenshot of ``page`` (the top ``width`` x ``height`` CSS pixels) into ``png``."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}", "--hide-scrollbars",
             "--force-device-scale-factor=1", f"--window-size={width},{height}", f"--screenshot={png.resolve()}", page.resolve().as_uri()],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.page.screenshot", description=__doc__.split("\n\n")[0])
    p.add_argument("page", type=Path, help="a page written by pytest --spec-report")
    p.add_argument("png", type=Path, help="the picture to write")
    p.add_argument("--width", type=int, default=1000, help="CSS pixels (default 1000)")
    p.add_argument("--height", type=int, default=1300, help="CSS pixels (default 1300)")
    args = p.parse_args(argv)
    if not args.page.is_file():
        print(f"gpt2spec.page.screenshot: {args.page} is not a file: write one with pytest --spec-report {args.page}", file=sys.stderr)
        return 2
    if CHROMIUM is None:
        print("gpt2spec.page.screenshot: no Chromium on PATH: install it (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    args.png.parent.mkdir(parents=True, exist_ok=True)
    try:
        shoot(args.page, args.png, args.width, args.height)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"gpt2spec.page.screenshot: Chromium did not write {args.png} ({error})", file=sys.stderr)
        return 1
    print(f"wrote {args.png} ({args.png.stat().st_size / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
