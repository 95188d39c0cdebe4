"""Screenshots of a study report and of its A4 PDF pages for ``docs/study_report.rst``.

Usage (from the repository root, with Chromium and poppler's ``pdftoppm`` installed,
e.g. ``apt-get install chromium poppler-utils``)::

    multidigit study --out multidigit-study
    python docs/screenshot_report.py multidigit-study/report.html

It prints the page to PDF with headless Chromium (``--print-to-pdf``: the report's own
``@page`` rule makes it A4), turns the pages into PNGs with ``pdftoppm``, and saves the
top of the page as seen in a browser window (``report_screen.png``) and the first pages
of the PDF (``report_pdf_<n>.png``) under ``docs/_static``.  Only the command-line tools
are used: no browser-automation library.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("screenshot_report: no Chromium on PATH (apt-get install chromium)")


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, help="a report.html that multidigit study wrote")
    ap.add_argument("--out", type=Path, default=HERE / "_static", help="output folder")
    ap.add_argument("--pages", default="1,3,6,13", help="PDF pages to keep, e.g. 1,3,5")
    ap.add_argument("--width", type=int, default=1000, help="browser window width (px)")
    args = ap.parse_args(argv)
    if shutil.which("pdftoppm") is None:
        sys.exit("screenshot_report: no pdftoppm on PATH (apt-get install poppler-utils)")
    url = args.report.resolve().as_uri()
    chrome = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
              "--hide-scrollbars"]
    args.out.mkdir(parents=True, exist_ok=True)
    _run(*chrome, f"--screenshot={args.out / 'report_screen.png'}",
         f"--window-size={args.width},1300", url)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        _run(*chrome, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url)
        for page in (int(p) for p in args.pages.split(",")):
            _run("pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                 "-singlefile", str(pdf), str(args.out / f"report_pdf_{page}"))
        n = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        print(next((line for line in n.splitlines() if line.startswith("Pages")), ""))
    print(f"wrote {args.out}/report_screen.png and report_pdf_<page>.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
