"""Render the ``multidigit demo`` page in headless Chromium to ``docs/_static/demo.png``.

Usage (from the repository root, with the ``demo`` extra and Chromium installed)::

    python docs/screenshot_demo.py                       # ./multidigit-study/model.keras
    python docs/screenshot_demo.py --model digits.keras --out docs/_static/demo.png

With no model at hand it trains a small one for a few epochs on the offline data
(about a minute on a laptop CPU), so the page shows a real reading.  The app reads a
random test image when the page opens; Chromium's ``--virtual-time-budget`` waits for
that (after a warm-up call) before it takes the picture.  Chromium is driven from its command line on purpose:
a browser-automation library (Playwright, Selenium) would download its own browser.
"""

from __future__ import annotations

import argparse
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


def _model(path: str | None):
    import multidigit as md
    from multidigit.demo import find_model

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


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Chromium not found: install it (apt-get install chromium) and retry.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def screenshot(url: str, out: Path, width: int = 1280, height: int = 1900,
               wait_ms: int = 30000) -> None:
    """Save a PNG of ``url`` as headless Chromium renders it."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--window-size={width},{height}", f"--virtual-time-budget={wait_ms}",
               f"--screenshot={out}", url]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a .keras model (default: the study's)")
    parser.add_argument("--out", default=str(HERE / "_static" / "demo.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1900)
    args = parser.parse_args(argv)

    from multidigit.demo import build_app

    app = build_app(_model(args.model))
    app.queue()
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
               quiet=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Warm up (TensorFlow traces the model and the explainer on the first call):
        # Chromium's virtual clock does not wait for the server, so the page's own
        # reading must then take well under a second of real time.
        from gradio_client import Client

        Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "gradcam", api_name="/random_test_image")
        time.sleep(0.5)
        screenshot(f"http://127.0.0.1:{port}/", out, args.width, args.height)
    finally:
        app.close()
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
