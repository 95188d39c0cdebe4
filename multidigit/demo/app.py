"""``multidigit demo``: draw three digits in the browser and see what the model reads.

A small `Gradio <https://www.gradio.app>`_ app (the optional ``demo`` extra:
``pip install "multidigit[demo]"``).  Three inputs: a sketch canvas, an image upload
and a random test image of the built-in data.  Drawings and uploads go through
:func:`multidigit.prepare_handwriting` (digits found, normalised as MNIST's, laid out as
the model reads them; a picture with more or fewer digits than the model's heads gets
a message and no label); test images are read as they are.  The app shows how the
digits were split, the image the model read, the label, each head's probabilities for
the 10 digits (and which heads are unsure, below a threshold chosen on the validation
split), and the maps of any registered explainer, on the image the model read.

Bad input (an empty canvas, an unreadable file, an explainer that does not apply, a
model that does not fit) is answered with a message in the app; the server keeps
running.  ``import multidigit`` never imports Gradio: only :func:`build_app` and
:func:`launch` do.

Examples
--------
>>> import multidigit as md
>>> from multidigit.demo.app import launch
>>> launch(md.load_model("multidigit-study/model.keras"))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._param_validation import (
    Body,
    Bool,
    Check,
    Free,
    Int,
    Number,
    fail,
    validate_params,
)
from multidigit.demo.explain import demo_methods, explanation_figure, lasting_note  # explainers
from multidigit.demo.inputs import (  # model_fit_problem: the CLI uses it from here too
    GUIDE_LEVEL,
    MAX_SURE_ERROR,
    canvas_guide,
    canvas_to_grey,
    display_image,
    file_to_grey,
    model_fit_problem,
    model_input_size,
    validation_threshold,
)
from multidigit.errors import ModelError, MultidigitError
from multidigit.handwriting.prepare import DigitCountError, prepare_handwriting

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr
    import keras

__all__ = ["build_app", "launch", "find_model", "require_gradio", "DemoDependencyError",
           "NO_EXPLAINER", "DEFAULT_STUDY", "INVERT_CHOICES"]

_log = logging.getLogger(__name__)

#: Dropdown entry that turns explanations off.
NO_EXPLAINER = "none"
_CANVAS = 336  # px: 3 digits of 112 px, 4x the 84-px Triple MNIST canvas
#: The invert option: its labels and what :func:`prepare_handwriting` gets.
INVERT_CHOICES = {"auto (from the border)": "auto", "invert (dark ink on light paper)": True,
                  "as it is (light ink on dark)": False}
_INSTALL = 'pip install "multidigit[demo]"'
#: The folder ``multidigit study`` writes by default; its ``model.keras`` is the demo's default.
DEFAULT_STUDY = D.STUDY_FOLDER


class DemoDependencyError(MultidigitError, ImportError):
    """The optional ``demo`` extra (Gradio) is not installed."""


@validate_params({})
def require_gradio() -> Any:
    """Import and return :mod:`gradio`, or say how to install it.

    Raises
    ------
    DemoDependencyError
        Gradio is missing: ``pip install "multidigit[demo]"``.
    """
    try:
        import gradio
    except ImportError as exc:
        raise DemoDependencyError(
            f"the demo needs Gradio, which is not installed: {_INSTALL}"
        ) from exc
    return gradio


# ----------------------------------------------------------------------------- logic


@dataclass
class _Reading:
    """What one prediction shows: every output of the app's event handlers."""

    image: np.ndarray | None = None
    label: str = ""
    heads: list[dict[str, float] | None] = field(default_factory=list)
    explanation: np.ndarray | None = None
    message: str = ""
    x: np.ndarray | None = None  # the (H, W) float image the model received
    split: np.ndarray | None = None  # how the digits were found (RGB), for drawings


class _Session:
    """The model and everything the handlers share (no Gradio in here)."""

    def __init__(self, model: "keras.Model", seed: int = 0,
                 threshold: float | None = None) -> None:
        self.model = model
        self.problem = model_fit_problem(model)
        self.heads = [] if self.problem else _head_names(model)
        self.size = None if self.problem else model_input_size(model)
        self._rng = np.random.default_rng(seed)
        self._test: Any = None
        self.threshold = threshold
        if threshold is None and not self.problem:
            self.threshold = validation_threshold(model)

    def read(self, picture: np.ndarray | None, method: str, invert: Any = "auto") -> _Reading:
        """Prepare a drawing or photo as MNIST's digits were made, predict, explain."""
        if self.problem or picture is None:
            return self._empty(f"This model does not fit the demo: {self.problem}")
        try:
            prep = prepare_handwriting(picture, len(self.heads), invert=invert,
                                       image_size=self.size)
        except DigitCountError as exc:
            reading = self._empty(_one_line(exc) + " No label is given: the model reads "
                                  f"exactly {len(self.heads)} digits.")
            reading.split = _figure_to_rgb(exc.plot())
            return reading
        note = "Inverted: dark ink on light paper." if prep.inverted else ""
        reading = self.read_prepared(prep.image, method, note)
        reading.split = _figure_to_rgb(prep.plot())
        return reading

    def read_prepared(self, x: np.ndarray, method: str, note: str = "") -> _Reading:
        """Predict and explain one (H, W) float image already at the model's size."""
        import multidigit as md

        pred = md.predict(self.model, x[None, ..., None])
        probs = pred.probabilities[0]
        heads = [{str(d): float(p[d]) for d in range(len(p))} for p in probs]
        expl, msg = self.explain(x, method)
        note = lasting_note(self, x, note)  # the true label survives a change of explainer
        message = " ".join(m for m in (note, self.unsure(probs.max(axis=1)), msg) if m)
        return _Reading(display_image(x), pred.labels[0], heads, expl, message, x)

    def unsure(self, top: np.ndarray) -> str:
        """A sentence naming the positions read below the threshold, or ``""``."""
        if self.threshold is None:
            return ""
        low = [f"{i} ({p:.2f})" for i, p in enumerate(top) if p < self.threshold]
        if not low:
            return ""
        return (f"Unsure about position {', '.join(low)}: below {self.threshold:.3f}, the "
                f"top probability above which at most {MAX_SURE_ERROR:.0%} of the "
                "validation split's digits are misread.")

    def explain(self, x: np.ndarray, method: str) -> tuple[np.ndarray | None, str]:
        """The explainer's maps for every head as an RGB picture, or a message why not."""
        if not method or method == NO_EXPLAINER:
            return None, ""

        try:
            return _figure_to_rgb(explanation_figure(self.model, x, method)), ""
        # Any explainer, a third-party plugin included, may fail in its own way; the
        # app must answer with a message and keep serving, never show a stack trace.
        except Exception as exc:  # noqa: BLE001
            _log.info("explainer %r failed", method, exc_info=True)
            return None, f"Explainer {method!r} does not apply here: {_one_line(exc)}"

    def random_test_image(self) -> tuple[np.ndarray, str]:
        """A random image of the built-in test split, at the model's size, and its label."""
        if self._test is None:
            import multidigit as md

            # One image per label combination: 200 test images, generated offline in
            # about a second; load_dataset resizes them exactly like the training data.
            ds = md.load_dataset("mini", images_per_class=1, n_digits=len(self.heads),
                                 image_size=self.size)
            self._test = ds.test
        i = int(self._rng.integers(len(self._test)))
        return self._test.images[i, ..., 0], str(self._test.label_strings[i])

    def _empty(self, message: str) -> _Reading:
        return _Reading(heads=[None] * len(self.heads), message=message)


def _check_model_arg(model: Any, allowed: str = "a keras.Model") -> None:
    """A bad *argument* (not a Keras model at all) is a ParameterError; a Keras model
    that does not fit the demo still gets an app that says why."""
    import keras

    if not isinstance(model, keras.Model):
        raise fail("model", f"{allowed} (from multidigit.build_model or load_model)",
                   type(model).__name__)


def _head_names(model: "keras.Model") -> list[str]:
    from multidigit.model.heads import model_head_names

    return model_head_names(model)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _figure_to_rgb(fig: Any) -> np.ndarray:
    """Render a matplotlib Figure to an (H, W, 3) uint8 array (Agg, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


# ----------------------------------------------------------------------------- handlers


def _guard(session: _Session, work: Any) -> _Reading:
    """Run one handler step; turn every failure into a message (the server keeps going)."""
    try:
        return work()
    except MultidigitError as exc:
        return session._empty(_one_line(exc))
    # A handler must never show a stack trace in the browser: log it, answer in words.
    except Exception as exc:  # noqa: BLE001
        _log.exception("demo handler failed")
        return session._empty(f"Something went wrong: {_one_line(exc)}")


def _read_canvas(session: _Session, value: Any, method: str,
                 invert: Any = "auto") -> _Reading:
    def work() -> _Reading:
        grey = canvas_to_grey(value)
        if grey is not None:  # the guide's faint cells are not ink
            grey = np.where(grey > GUIDE_LEVEL + 8, grey, 0).astype(np.uint8)
        if grey is None or int(grey.max()) <= 16:
            return session._empty(
                "The canvas is empty: draw three digits left to right, in white on the "
                "black canvas, then press 'Read the drawing'.")
        return session.read(grey, method, invert)

    return _guard(session, work)


def _read_upload(session: _Session, path: Any, method: str, invert: Any = "auto") -> _Reading:
    def work() -> _Reading:
        if not path:
            return session._empty("No file yet: upload a PNG or JPEG image of three digits.")
        return session.read(file_to_grey(path), method, invert)

    return _guard(session, work)


def _read_random(session: _Session, method: str) -> _Reading:
    def work() -> _Reading:
        if session.problem:
            return session.read(None, method)  # says why
        x, label = session.random_test_image()
        return session.read_prepared(x, method, f"Test image, true label {label}.")

    return _guard(session, work)


# ----------------------------------------------------------------------------- app


@validate_params({
    "model": Check(_check_model_arg, invalid="not a model"),
    "title": Body("a string"),
    "seed": Int(min=0),
    "example_on_load": Bool(),
    "threshold": Number(min=0, max=1, none_ok=True),
})
def build_app(model: "keras.Model", *, title: str = "multidigit: read three digits",
              seed: int = 0, example_on_load: bool = True,
              threshold: float | None = None) -> "gr.Blocks":
    """The demo as a Gradio Blocks app (not started: call ``.launch()`` or :func:`launch`).

    Parameters
    ----------
    model : keras.Model
        A model from :func:`multidigit.build_model` (any preset) or
        :func:`multidigit.load_model`: one ``(H, W, 1)`` image input and one 10-way head
        per digit.  A model that does not fit still gives an app, which says why.
    title : str
        Page title.
    seed : int
        Seed of the random test-image button.
    example_on_load : bool
        Read a random test image when the page opens, so it never starts blank.
    threshold : float, optional
        Top probability under which a head's reading is called unsure.  Default:
        chosen on the validation split when the app starts (:func:`validation_threshold`).

    Returns
    -------
    gradio.Blocks

    Raises
    ------
    DemoDependencyError
        Gradio is not installed (``pip install "multidigit[demo]"``).

    Examples
    --------
    >>> app = build_app(md.build_model(preset="small", input_shape=(28, 84, 1)))  # doctest: +SKIP
    >>> app.launch(server_name="127.0.0.1")                                       # doctest: +SKIP
    """
    if not isinstance(title, str):
        raise fail("title", "a string", title)
    gr = require_gradio()

    session = _Session(model, seed=seed, threshold=threshold)
    methods = [NO_EXPLAINER, *demo_methods()]  # without activation_maximization
    with gr.Blocks(title=title, analytics_enabled=False) as app:
        gr.Markdown(f"## {title}\nDraw three digits left to right, upload an image, or "
                    "take a random test image. Drawings and uploads are prepared as MNIST's "
                    "digits were (each digit found, fitted in a 20x20 box, centred in its "
                    "28x28 cell); the model reads each position with its own head.")
        gr.Markdown(f"**This model does not fit the demo:** {session.problem}",
                    visible=bool(session.problem))
        ins = _input_widgets(gr, methods)
        outs = _output_widgets(gr, session.heads)
        _wire(gr, session, ins, outs, app if example_on_load else None)
    return app


def _input_widgets(gr: Any, methods: list[str]) -> dict[str, Any]:
    guide = canvas_guide(_CANVAS)
    with gr.Row():
        with gr.Column():
            canvas = gr.Sketchpad(
                value={"background": guide, "layers": [], "composite": guide},
                label="Draw three digits, left to right, one in each cell", type="numpy",
                image_mode="RGBA", canvas_size=(_CANVAS, _CANVAS), fixed_canvas=True,
                brush=gr.Brush(colors=["#FFFFFF"], default_color="#FFFFFF",
                               default_size=9, color_mode="fixed"),
                layers=False, transforms=(), height=_CANVAS + 120,
            )
            read_canvas = gr.Button("Read the drawing", variant="primary")
        with gr.Column():
            upload = gr.File(label="Upload a PNG or JPEG", file_types=["image"],
                             type="filepath")
            read_upload = gr.Button("Read the upload")
            random = gr.Button("Random test image")
            method = gr.Dropdown(methods, value="gradcam" if "gradcam" in methods
                                 else NO_EXPLAINER, label="Explainer")
            invert = gr.Radio(list(INVERT_CHOICES), value=next(iter(INVERT_CHOICES)),
                              label="Background of drawings and uploads")
    return {"canvas": canvas, "read_canvas": read_canvas, "upload": upload,
            "read_upload": read_upload, "random": random, "method": method,
            "invert": invert}


def _output_widgets(gr: Any, heads: list[str]) -> dict[str, Any]:
    with gr.Row():
        image = gr.Image(label="What the model received", type="numpy", format="png",
                         image_mode="L", interactive=False, height=200, scale=1)
        with gr.Column(scale=2):
            label = gr.Textbox(label="Label read", interactive=False)
            message = gr.Textbox(label="Message", interactive=False)
    split = gr.Image(label="How the digits were found (drawings and uploads)", type="numpy",
                     format="png", interactive=False, height=260)
    with gr.Row():
        bars = [gr.Label(num_top_classes=10, label=f"{h}: position {i}")
                for i, h in enumerate(heads)]
    explanation = gr.Image(label="Explainer maps, one per head", type="numpy",
                           format="png", interactive=False)
    return {"image": image, "label": label, "message": message, "bars": bars,
            "explanation": explanation, "split": split}


def _wire(gr: Any, session: _Session, ins: dict[str, Any], outs: dict[str, Any],
          app: Any = None) -> None:
    targets = [outs["image"], outs["label"], *outs["bars"], outs["explanation"],
               outs["message"], outs["split"]]
    state = gr.State(None)  # the last image the model received, for re-explaining

    def show(r: _Reading) -> tuple[Any, ...]:
        if r.message and r.image is None:
            gr.Warning(r.message)
        return (r.image, r.label, *r.heads, r.explanation, r.message, r.split, r.x)

    def keep_split(r: _Reading) -> tuple[Any, ...]:  # re-explaining: the split stays
        out = show(r)
        return (*out[:-2], gr.skip(), out[-1])

    def on_canvas(value: Any, method: str, invert: str = "") -> tuple[Any, ...]:
        return show(_read_canvas(session, value, method, INVERT_CHOICES.get(invert, "auto")))

    def on_upload(path: Any, method: str, invert: str = "") -> tuple[Any, ...]:
        return show(_read_upload(session, path, method, INVERT_CHOICES.get(invert, "auto")))

    def on_random(method: str) -> tuple[Any, ...]:
        return show(_read_random(session, method))

    def on_method(last: Any, method: str) -> tuple[Any, ...]:
        if last is None:
            return show(session._empty("Read an image first, then choose an explainer."))
        return keep_split(_guard(session, lambda: session.read_prepared(last, method)))

    everything = [*targets, state]
    m = ins["method"]
    inv = ins["invert"]
    ins["read_canvas"].click(on_canvas, [ins["canvas"], m, inv], everything,
                             api_name="read_drawing")
    ins["read_upload"].click(on_upload, [ins["upload"], m, inv], everything,
                             api_name="read_upload")
    ins["upload"].upload(on_upload, [ins["upload"], m, inv], everything, api_name=False)
    ins["random"].click(on_random, [m], everything, api_name="random_test_image")
    m.change(on_method, [state, m], everything, api_name="explain")
    if app is not None:
        app.load(on_random, [m], everything, api_name=False)


# ----------------------------------------------------------------------------- launch


@validate_params({
    "model": Body("a keras.Model or a .keras path"),
    "host": Body("an interface name or address such as '127.0.0.1'"),
    "port": Int(min=1, max=65535, none_ok=True),
    "share": Bool(),
    "block": Bool(),
    "launch_options": Free("passed to gradio.Blocks.launch, which checks them"),
})
def launch(model: "keras.Model | str | os.PathLike[str]", *, host: str = "127.0.0.1",
           port: int | None = None, share: bool = False, block: bool = True,
           **launch_options: Any) -> "gr.Blocks":
    """Build the app for ``model`` (a Keras model or a ``.keras`` path) and serve it.

    Parameters
    ----------
    model : keras.Model or path
        The model to demonstrate.
    host : str
        Interface to listen on; the default ``127.0.0.1`` is this computer only.
    port : int, optional
        Port (default: Gradio's, 7860, or the next free one).
    share : bool
        Also open a public ``*.gradio.live`` link (off unless asked).
    block : bool
        Wait until the server is stopped (Ctrl+C); ``False`` returns at once.
    **launch_options
        Passed to :meth:`gradio.Blocks.launch`.

    Returns
    -------
    gradio.Blocks
        The running app (``.close()`` stops it).

    Examples
    --------
    >>> launch("multidigit-study/model.keras", port=7860)   # doctest: +SKIP
    """
    if not isinstance(host, str) or not host:
        raise fail("host", "an interface name or address such as '127.0.0.1'", host)
    if not isinstance(model, (str, os.PathLike)):
        _check_model_arg(model, "a keras.Model or a .keras path")
    require_gradio()
    if isinstance(model, (str, os.PathLike)):
        import multidigit as md

        model = md.load_model(Path(model))
    app = build_app(model)
    app.queue(default_concurrency_limit=1)  # one model, one prediction at a time
    app.launch(server_name=host, server_port=port, share=share,
               prevent_thread_lock=not block, **launch_options)
    return app


@validate_params({
    "model": Body("None or a path"), "study": Body("None or a path"), "cwd": Body("a path"),
})
def find_model(model: str | os.PathLike[str] | None = None,
               study: str | os.PathLike[str] | None = None,
               cwd: str | os.PathLike[str] = ".") -> Path:
    """The ``.keras`` file to demonstrate: ``model``, else ``study/model.keras``, else
    ``./multidigit-study/model.keras``.

    Raises
    ------
    ModelError
        The file does not exist; the one-line message says how to get a model.

    Examples
    --------
    >>> find_model(study="multidigit-study")          # doctest: +SKIP
    PosixPath('multidigit-study/model.keras')
    """
    for name, value in (("model", model), ("study", study), ("cwd", cwd)):
        if not isinstance(value, (str, os.PathLike)) and (value is not None or name == "cwd"):
            raise fail(name, "a path (str or os.PathLike)" + ("" if name == "cwd" else
                       " or None"), value)
    get = (f"train one with `multidigit study --out {DEFAULT_STUDY}`, "
           "or pass --model PATH.keras")
    if model is not None:
        path = Path(model).expanduser()
        where = f"model file {str(path)!r}"
    else:
        folder = Path(study).expanduser() if study is not None else Path(cwd) / DEFAULT_STUDY
        path = folder / "model.keras"
        where = (f"{str(path)!r} (the folder `multidigit study` wrote)" if study is not None
                 else f"no --model given and no {DEFAULT_STUDY}/model.keras here")
    if path.is_file():
        return path
    if model is None and study is None:
        raise ModelError(f"{where}: {get}.")
    raise ModelError(f"{where} does not exist: {get}.")
