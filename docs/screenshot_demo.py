"""Render the ``multidigit demo`` page in headless Chromium to ``docs/_static/demo.png``.

Usage (from the repository root, with the ``demo`` extra and Chromium installed)::

    python docs/screenshot_demo.py                       # ./multidigit-study/model.keras
    python docs/screenshot_demo.py --model digits.keras --out docs/_static/demo.png

It starts the app, opens it in headless Chromium, draws "147" on the canvas with the
mouse, presses *Read the drawing*, waits for the label and saves the page.  So it is
also an end-to-end check that a real browser's drawing reaches the model white on
black.  With no model at hand it first trains a small one on the offline data (about
a minute on a laptop CPU), so the page shows a real reading.

Chromium is driven over ``--remote-debugging-pipe`` (the DevTools protocol as
NUL-separated JSON on file descriptors 3 and 4) with the standard library only: a
browser-automation library (Playwright, Selenium) would download its own browser.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent


class Chromium:
    """Headless Chromium, one page, driven through the DevTools protocol on a pipe."""

    def __init__(self, width: int, height: int) -> None:
        exe = next((shutil.which(n) for n in ("chromium", "chromium-browser",
                                              "google-chrome") if shutil.which(n)), None)
        if exe is None:
            raise SystemExit("Chromium not found: install it (apt-get install chromium).")
        child_read, self._to_chrome = os.pipe()      # Chromium reads commands on fd 3
        self._from_chrome, child_write = os.pipe()   # and writes answers on fd 4
        self._profile = tempfile.TemporaryDirectory()
        # A tiny Python trampoline moves the pipe ends to fds 3 and 4, then becomes
        # Chromium (no preexec_fn: the Gradio server's threads are running, and
        # preexec_fn is not safe with threads).
        trampoline = (
            "import fcntl, os, sys\n"
            "old = [int(a) for a in sys.argv[1:3]]\n"
            "new = [fcntl.fcntl(f, fcntl.F_DUPFD, 5) for f in old]  # clear of 3 and 4\n"
            "os.dup2(new[0], 3); os.dup2(new[1], 4)  # inheritable copies\n"
            "[os.close(f) for f in {*old, *new} - {3, 4}]\n"
            "os.execvp(sys.argv[3], sys.argv[3:])\n")
        self._proc = subprocess.Popen(
            [sys.executable, "-c", trampoline, str(child_read), str(child_write), exe,
             "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
             f"--window-size={width},{height}", "about:blank"],
            pass_fds=(child_read, child_write),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_read)
        os.close(child_write)
        self._id, self._buf, self._session = 0, b"", None

    def send(self, method: str, **params: object) -> dict:
        self._id += 1
        msg: dict = {"id": self._id, "method": method, "params": params}
        if self._session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self._buf:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target,
                                  flatten=True)["sessionId"]
        self.send("Page.navigate", url=url)

    def js(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 120.0) -> object:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"the page never satisfied {expression!r}")

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Drag the mouse through ``points`` (page pixels), as a hand would."""
        def mouse(kind: str, x: float, y: float) -> None:
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      buttons=0 if kind == "mouseReleased" else 1, clickCount=1)

        mouse("mousePressed", *points[0])
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            for k in range(1, 9):
                mouse("mouseMoved", x0 + (x1 - x0) * k / 8, y0 + (y1 - y0) * k / 8)
        mouse("mouseReleased", *points[-1])

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        self._proc.wait(timeout=30)
        self._profile.cleanup()


# strokes of "1", "4", "7", one per third of the canvas: (u, v) in [0, 1] in each cell
DIGITS = [
    [[(0.55, 0.0), (0.45, 1.0)]],
    [[(0.2, 0.0), (0.1, 0.55), (0.9, 0.55)], [(0.7, 0.2), (0.65, 1.0)]],
    [[(0.1, 0.0), (0.9, 0.0), (0.35, 1.0)]],
]

_LABEL = ("(e => e && e.value)([...document.querySelectorAll('textarea, input')]"
          ".find(e => e.closest('.block') && "
          "e.closest('.block').textContent.includes('Label read')))")


def draw_and_read(browser: Chromium) -> str:
    """Draw :data:`DIGITS` on the sketch canvas, press the button, return the label."""
    browser.wait_for("document.querySelectorAll('canvas').length > 0")
    time.sleep(2.0)  # the editor sizes its canvas after it appears
    x, y, w, h = json.loads(browser.js(  # type: ignore[arg-type]
        "JSON.stringify((r => [r.x, r.y, r.width, r.height])"
        "(document.querySelector('canvas').getBoundingClientRect()))"))
    side = min(w, h) * 0.85  # the black drawing square, centred in the editor
    left, top, cell = x + w / 2 - side / 2, y + h / 2 - side / 2, side / 3
    for d, strokes in enumerate(DIGITS):
        for stroke in strokes:
            browser.stroke([(left + cell * (d + 0.2 + 0.6 * u), top + cell * (1.15 + 0.7 * v))
                            for u, v in stroke])
    time.sleep(0.5)
    browser.js("[...document.querySelectorAll('button')]"
               ".find(b => b.textContent.includes('Read the drawing')).click()")
    label = browser.wait_for(_LABEL)
    time.sleep(1.5)  # the explainer image arrives with the label; let it paint
    return str(label)


def _model(path: str | None):
    import multidigit as md
    from multidigit.demo.app import find_model

    try:
        return md.load_model(find_model(path), compile=False)
    except md.ModelError:
        if path is not None:
            raise
    print("no model found: training a small one on the offline data (about a minute)")
    ds = md.load_dataset("mini", images_per_class=10, image_size=(28, 28), seed=0)
    model = md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                           preset="small", seed=0)
    model.fit(ds.train.images, ds.train.one_hot(), epochs=12, batch_size=64, verbose=0)
    return model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a .keras model (default: the study's)")
    parser.add_argument("--out", default=str(HERE / "_static" / "demo.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2100)
    args = parser.parse_args(argv)

    from multidigit.demo.app import build_app

    app = build_app(_model(args.model), example_on_load=False)
    app.queue()
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
               quiet=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    browser = Chromium(args.width, args.height)
    try:
        browser.open(f"http://127.0.0.1:{port}/")
        label = draw_and_read(browser)
        browser.screenshot(out)
    finally:
        browser.close()
        app.close()
    print(f"drew 147, the model read {label}; wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
