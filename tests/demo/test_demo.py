"""``multidigit demo``: the Gradio app driven over HTTP with gradio_client, and the CLI.

The app runs in-process on a free loopback port (127.0.0.1 only); every test talks to
it as a browser would.  Tests that need Gradio skip when the ``demo`` extra is absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import multidigit as md
from multidigit import cli
from multidigit.demo.explain import demo_methods
from multidigit.demo.inputs import canvas_guide, canvas_to_grey, display_image
from multidigit.handwriting.prepare import prepare_handwriting

# gradio's queue calls a pandas option that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

SIZE = (28, 84)  # a small model input: the test stays fast on 2 CPUs
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


# ----------------------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(model, threshold=0.0):
    """Start the demo for ``model`` on a free loopback port; return (app, client).

    ``threshold=0.0``: the tiny untrained model is never called unsure (clean messages);
    the threshold itself is tested on its own."""
    pytest.importorskip("gradio")
    gradio_client = pytest.importorskip("gradio_client")
    from multidigit.demo.app import build_app

    app = build_app(model, threshold=threshold)
    app.queue()
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
               quiet=True, share=False)
    return app, gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)


def _png(path, array) -> str:
    from PIL import Image

    Image.fromarray(np.asarray(array, np.uint8)).save(path)
    return str(path)


def _drawing() -> np.ndarray:
    """Three white strokes on a black 336x336 RGBA canvas, as the sketchpad sends it."""
    ink = np.zeros((336, 336), np.uint8)
    ink[90:250, 45:65] = 255           # a "1"
    ink[90:110, 140:200] = 255         # a "7"
    ink[90:250, 185:200] = 255
    ink[90:250, 250:300:45] = 255      # a "0"-ish frame
    ink[90:100, 250:300] = ink[240:250, 250:300] = 255
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def _read_png(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L"))


def _check_reading(out, n_heads=3) -> None:
    _image, label, *bars, _explanation, message, _split = out
    assert len(bars) == n_heads
    assert len(label) == n_heads and label.isdigit(), message
    for head, bar in zip(label, bars):
        assert bar["label"] == head
        assert sorted(c["label"] for c in bar["confidences"]) == [str(d) for d in range(10)]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tiny_model():
    return md.build_model(preset="small", input_shape=(*SIZE, 1), seed=0)


@pytest.fixture(scope="module")
def served(tiny_model):
    app, client = _serve(tiny_model)
    yield client
    app.close()


@pytest.fixture(scope="module")
def test_images():
    """The built-in test split at 84x84 and at the model's size (load_dataset's resize)."""
    big = md.load_dataset("mini", images_per_class=1).test
    small = md.load_dataset("mini", images_per_class=1, image_size=SIZE).test
    return big, small


# ----------------------------------------------------------------------------- the app


def test_drawn_array_is_read_and_shown_as_the_model_received_it(served, tiny_model, tmp_path):
    from gradio_client import handle_file

    drawing = _png(tmp_path / "drawing.png", _drawing())
    out = served.predict({"background": handle_file(drawing), "layers": [],
                          "composite": handle_file(drawing)}, "none",
                         api_name="/read_drawing")
    _check_reading(out)
    x = prepare_handwriting(canvas_to_grey(_drawing()), 3, image_size=SIZE).image
    np.testing.assert_array_equal(_read_png(out[0]), display_image(x))
    assert out[1] == md.predict(tiny_model, x[None, ..., None]).labels[0]
    assert out[-3] is None and out[-2] == ""
    assert _read_png(out[-1]).shape[1] > 300  # the split: input with boxes, then prepared


def test_uploaded_png_is_prepared_as_mnist_digits(served, test_images, tmp_path):
    from gradio_client import handle_file

    big, _small = test_images
    i = 7
    native = np.rint(big.images[i, ..., 0] * 255).astype(np.uint8)  # the 84x84 file
    out = served.predict(handle_file(_png(tmp_path / "test.png", native)), "none",
                         api_name="/read_upload")
    _check_reading(out)
    # byte for byte what prepare_handwriting gives the model at its input size
    prepared = prepare_handwriting(native, 3, image_size=SIZE).image
    np.testing.assert_array_equal(_read_png(out[0]), display_image(prepared))


def test_upload_of_any_size_and_colour_jpeg(served, tmp_path):
    from gradio_client import handle_file
    from PIL import Image

    rgb = np.zeros((300, 700, 3), np.uint8)
    rgb[60:240, 100:130] = rgb[60:240, 300:330] = rgb[60:240, 500:530] = (255, 255, 255)
    path = tmp_path / "big.jpg"
    Image.fromarray(rgb).save(path, quality=90)
    out = served.predict(handle_file(str(path)), "none", api_name="/read_upload")
    _check_reading(out)
    assert _read_png(out[0]).shape == display_image(np.zeros(SIZE)).shape


def _paper(path) -> str:
    """Dark digits (three bars) on white paper, as a photo or scan."""
    paper = np.full((84, 84), 255, np.uint8)
    paper[20:60, 10:15] = paper[25:65, 40:45] = paper[20:60, 70:75] = 0
    return _png(path, paper)


def test_light_background_upload_is_inverted(served, tmp_path):
    from gradio_client import handle_file

    out = served.predict(handle_file(_paper(tmp_path / "paper.png")), "none",
                         "auto (from the border)", api_name="/read_upload")
    _check_reading(out)
    assert "Inverted: dark ink on light paper" in out[-2]
    assert _read_png(out[0]).mean() < 64  # the model read white on black


def test_invert_option_can_be_forced_off(served, tmp_path):
    from gradio_client import handle_file

    out = served.predict(handle_file(_paper(tmp_path / "paper.png")), "none",
                         "as it is (light ink on dark)", api_name="/read_upload")
    assert out[1] == "" and "found 0 digits" in out[-2] and "invert" in out[-2]


def test_wrong_number_of_digits_gets_no_label_and_shows_the_split(served, tmp_path):
    from gradio_client import handle_file

    two = _drawing()
    two[:, 230:] = 0  # rub out the third digit
    path = _png(tmp_path / "two.png", two)
    out = served.predict({"background": handle_file(path), "layers": [],
                          "composite": handle_file(path)}, "gradcam",
                         api_name="/read_drawing")
    assert out[1] == "" and "found 2 digits, but the model reads 3" in out[-2]
    assert "No label is given" in out[-2]
    assert out[0] is None and out[-1] is not None  # no reading, but the split is shown


def test_canvas_guide_is_not_read_as_ink(served, tmp_path):
    from gradio_client import handle_file

    guided = _png(tmp_path / "guided.png", np.maximum(_drawing()[..., :3], canvas_guide()))
    out = served.predict({"background": handle_file(guided), "layers": [],
                          "composite": handle_file(guided)}, "none", api_name="/read_drawing")
    _check_reading(out)
    plain = prepare_handwriting(canvas_to_grey(_drawing()), 3, image_size=SIZE).image
    np.testing.assert_array_equal(_read_png(out[0]), display_image(plain))
    empty = _png(tmp_path / "guide.png", canvas_guide())
    out = served.predict({"background": handle_file(empty), "layers": [],
                          "composite": handle_file(empty)}, "none", api_name="/read_drawing")
    assert out[1] == "" and "canvas is empty" in out[-2]


def test_unsure_heads_are_named_with_the_validation_threshold(tiny_model):
    from multidigit.demo.app import _Session
    from multidigit.demo.inputs import validation_threshold
    from multidigit.evaluation.calibration import confidence_threshold

    val = md.load_dataset("mini", images_per_class=2, image_size=SIZE).val
    pred = md.predict(tiny_model, val.images)
    expected = confidence_threshold(pred.probabilities, val.labels, 0.01)
    assert validation_threshold(tiny_model) == expected
    session = _Session(tiny_model)  # chosen on the validation split at start
    assert session.threshold == expected
    top = np.array([0.999, 0.5, 0.97])
    session.threshold = 0.98
    msg = session.unsure(top)
    assert "position 1 (0.50), 2 (0.97)" in msg and "0.980" in msg and "0 (" not in msg
    assert session.unsure(np.array([0.99, 0.99, 0.99])) == ""


def test_empty_canvas_says_so(served, tmp_path):
    from gradio_client import handle_file

    black = _png(tmp_path / "black.png", np.zeros((336, 336, 3), np.uint8))
    out = served.predict({"background": handle_file(black), "layers": [],
                          "composite": handle_file(black)}, "gradcam",
                         api_name="/read_drawing")
    assert out[1] == "" and "canvas is empty" in out[-2]


def test_unreadable_upload_says_so_and_the_server_keeps_running(served, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a PNG")
    out = served.predict(handle_file(str(bad)), "gradcam", api_name="/read_upload")
    assert out[1] == "" and "cannot read 'broken.png'" in out[-2]
    assert "Traceback" not in out[-2]
    _check_reading(served.predict("none", api_name="/random_test_image"))


def test_random_test_image_names_its_true_label(served):
    out = served.predict("none", api_name="/random_test_image")
    _check_reading(out)
    assert "true label" in out[-2]


@pytest.mark.parametrize("method", demo_methods())  # all but activation_maximization
def test_each_explainer_shows_its_maps(served, method):
    out = served.predict(method, api_name="/random_test_image")
    _check_reading(out)
    explanation, message = out[-3], out[-2]
    if explanation is None:  # an explainer that does not apply here says why
        assert f"Explainer {method!r} does not apply" in message
    else:
        assert _read_png(explanation).size > 0
        assert "does not apply" not in message


def test_explainer_dropdown_re_explains_the_last_image(served):
    served.predict("none", api_name="/random_test_image")
    out = served.predict("saliency", api_name="/explain")
    _check_reading(out)
    assert out[-3] is not None


def test_failing_explainer_gives_a_message_not_a_trace(served, monkeypatch):
    def broken(*args, **kwargs):
        raise md.ExplainerError("explainer 'x' needs the Keras backend 'jax'.")

    monkeypatch.setattr(md, "explain", broken)
    out = served.predict("gradcam", api_name="/random_test_image")
    _check_reading(out)  # the reading still works
    assert out[-3] is None
    assert "does not apply here: explainer 'x' needs the Keras backend 'jax'" in out[-2]


def test_model_that_does_not_fit_is_explained_in_the_app(tmp_path):
    import keras

    x = keras.Input((*SIZE, 1))
    flat = keras.layers.Flatten()(x)
    bad = keras.Model(x, keras.layers.Dense(5, name="scores")(flat))
    app, client = _serve(bad)
    try:
        out = client.predict("none", api_name="/random_test_image")
        assert out[1] == "" and "does not fit the demo" in out[-2]
        assert "digit heads" in out[-2]
    finally:
        app.close()


# ----------------------------------------------------------------------------- no Gradio


def test_import_multidigit_does_not_import_gradio():
    code = ("import sys, multidigit, multidigit.demo.app, multidigit.cli; "
            "multidigit.cli.build_parser(); assert 'gradio' not in sys.modules")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=1800)


def test_missing_extra_says_how_to_install(monkeypatch, capsys, tmp_path):
    from multidigit.demo.app import DemoDependencyError, require_gradio

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio -> ImportError
    with pytest.raises(DemoDependencyError, match=r'pip install "multidigit\[demo\]"'):
        require_gradio()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'pip install "multidigit[demo]"' in err


# ----------------------------------------------------------------------------- the CLI


def test_cli_without_a_model_says_in_one_line_how_to_get_one(monkeypatch, capsys, tmp_path):
    pytest.importorskip("gradio")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "multidigit study --out multidigit-study" in err and "--model" in err


def test_cli_finds_the_model_and_serves_on_loopback(monkeypatch, capsys, tmp_path, tiny_model):
    pytest.importorskip("gradio")
    from multidigit.demo import app as demo

    md.save_model(tiny_model, tmp_path / "multidigit-study" / "model.keras")
    calls = []

    class Running:  # what launch returns, without a server
        local_url = "http://127.0.0.1:7860/"

        def block_thread(self):
            calls[-1][1]["blocked"] = True

    def fake_launch(model, **kw):
        calls.append((model, kw))
        return Running()

    monkeypatch.setattr(demo, "launch", fake_launch)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo"]) == 0  # ./multidigit-study/model.keras by default
    assert cli.main(["demo", "--study", "multidigit-study", "--port", "7999"]) == 0
    common = {"share": False, "block": False, "quiet": True, "blocked": True}
    assert [kw for _, kw in calls] == [
        {"host": "127.0.0.1", "port": None, **common},
        {"host": "127.0.0.1", "port": 7999, **common},
    ]
    out = capsys.readouterr().out
    assert "multidigit-study/model.keras on http://127.0.0.1:7860/" in out
    assert cli.main(["demo", "--model", "nope.keras"]) == 2
    assert "'nope.keras' does not exist" in capsys.readouterr().err


def test_cli_refuses_a_model_that_does_not_fit(monkeypatch, capsys, tmp_path):
    pytest.importorskip("gradio")
    import keras

    x = keras.Input((8, 8, 3))
    keras.Model(x, keras.layers.Dense(10, name="digit_0")(keras.layers.Flatten()(x))).save(
        tmp_path / "rgb.keras")
    assert cli.main(["demo", "--model", str(tmp_path / "rgb.keras")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "(H, W, 1) grey images" in err


@pytest.mark.parametrize("preset", sorted(md.PRESETS))
def test_every_preset_is_read_and_explained(preset):
    from multidigit.demo.app import _read_canvas, _Session

    model = md.build_model(preset=preset, input_shape=(28, 28, 1), seed=0)
    reading = _read_canvas(_Session(model, threshold=0.0), _drawing(), "gradcam")
    assert len(reading.label) == 3 and reading.message == ""
    assert reading.explanation is not None and reading.x.shape == (28, 28)
