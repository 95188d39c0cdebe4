"""The ``multidigit`` command line: ``data``, ``tune``, ``study`` and friends.

Each sub-command's work lives in the module named for its concept; this module only
parses arguments (argparse) and imports the heavy modules lazily, so ``multidigit
--help`` answers instantly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from multidigit import _defaults as D
from multidigit._param_validation import validate_params
from multidigit.errors import MultidigitError

__all__ = ["build_parser", "main"]


def _add_data_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="mini",
        help="dataset source: 'mini' (offline, default), a folder path, or hf://owner/name",
    )
    p.add_argument("--image-size", type=int, default=None, help="resize images to N x N")
    p.add_argument("--images-per-class", type=int, default=10, help="'mini' only")
    p.add_argument("--seed", type=int, default=0)


def _add_data_parser(sub: Any) -> None:
    """The ``data`` sub-command and its actions: generate, export, describe."""
    data = sub.add_parser("data", help="generate, export or describe a dataset")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION")
    gen = dsub.add_parser("generate", help="generate the offline set and write it as PNG folders")
    gen.add_argument("out", help="folder to write ROOT/{train,val,test}/<label>/*.png into")
    gen.add_argument("--images-per-class", type=int, default=10)
    gen.add_argument("--n-digits", type=int, default=3)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--overwrite", action="store_true")
    exp = dsub.add_parser("export", help="load any source and write it as PNG folders")
    _add_data_source(exp)
    exp.add_argument("out")
    exp.add_argument("--overwrite", action="store_true")
    desc = dsub.add_parser("describe", help="load a dataset and print a summary table")
    _add_data_source(desc)
    desc.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _stages_epilog() -> str:
    """The stages, read from the study's stage table (which imports nothing heavy)."""
    from multidigit.study.stage_table import STAGE_TABLE

    width = max(len(s.name) for s in STAGE_TABLE) + 2
    return ("stages, in order (each saved in OUT/stages/NAME.json as it ends; running "
            "again resumes\nafter the last finished one):\n"
            + "\n".join(f"  {s.name:<{width}}{s.title}" for s in STAGE_TABLE))


def _add_study_parser(sub: Any) -> None:
    """The ``study`` sub-command."""
    study = sub.add_parser("study", help="reproduce the whole study and write a report",
                           epilog=_stages_epilog(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    study.add_argument("--data", default="mini",
                       help="'mini' (offline, default), a folder path, or hf://owner/name")
    study.add_argument(
        "--out", default=D.STUDY_FOLDER,
        help="output folder: new, empty, or one an earlier study wrote (it resumes there; "
        "other settings there are an error unless --restart)",
    )
    study.add_argument("--quick", action="store_true", help="tiny settings (CI, tests)")
    study.add_argument("--full-tuning", action="store_true", help="study-sized tuning run")
    study.add_argument("--seed", type=int, default=0)
    study.add_argument(
        "--restart", action="store_true",
        help="delete what the study wrote in --out (results, figures, model, tuning "
        "project; nothing else) and start afresh",
    )


@validate_params({})
def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``multidigit`` command."""
    from multidigit import __version__

    parser = argparse.ArgumentParser(
        prog="multidigit",
        description="Multi-label digit classification on Triple MNIST: data, "
        "training, tuning, explanations and the whole study.",
    )
    parser.add_argument("--version", action="version", version=f"multidigit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # ---- data
    _add_data_parser(sub)

    # ---- tune
    from multidigit.tuning.tuner import TUNERS  # light: no keras-tuner import

    tune = sub.add_parser("tune", help="hyperparameter search with keras-tuner")
    _add_data_source(tune)
    tune.add_argument("--tuner", default=D.TUNER, choices=TUNERS)
    tune.add_argument("--search-space", default="shared",
                      help="a named space (shared, study, wide, tiny), a .json file or a JSON string")
    tune.add_argument("--max-trials", type=int, default=10)
    tune.add_argument("--epochs", type=int, default=D.EPOCHS,
                      help="epochs per trial (default: the recipe's, as `train`)")
    tune.add_argument("--k", type=int, default=None, help="score trials by k-fold CV")
    tune.add_argument("--directory", default=D.TUNING_FOLDER)
    tune.add_argument("--project-name", default="search")
    tune.add_argument("--no-resume", action="store_true")
    role = tune.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true", help="run the distributed oracle")
    role.add_argument("--worker", metavar="ID", default=None, help="run as a distributed worker")
    tune.add_argument("--chief-ip", default="127.0.0.1")
    tune.add_argument("--chief-port", default="8000")

    # ---- study
    _add_study_parser(sub)

    # ---- demo
    _add_demo_parser(sub)
    return parser


# ---- demo (self-contained: its parser and its command)
def _add_demo_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    demo = sub.add_parser(
        "demo", help="draw digits in the browser and see what a model reads (Gradio)",
        description="Serve a browser demo of a trained model: draw three digits, upload an "
        "image or take a test image; see the label read, each head's probabilities and "
        "the explainers' maps.  Needs the demo extra: pip install \"multidigit[demo]\".",
    )
    source = demo.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="PATH.keras", default=None,
                        help="the model to demonstrate")
    source.add_argument("--study", metavar="DIR", default=None,
                        help="a folder `multidigit study` wrote (uses DIR/model.keras); "
                        f"default: ./{D.STUDY_FOLDER}")
    demo.add_argument("--host", default="127.0.0.1",
                      help="interface to serve on (default 127.0.0.1: this computer only)")
    demo.add_argument("--port", type=int, default=None,
                      help="port (default 7860, or the next free one)")
    demo.add_argument("--share", action="store_true",
                      help="also open a public *.gradio.live link (off unless asked)")


def _demo_command(args: argparse.Namespace) -> int:
    from multidigit.demo import app as demo

    demo.require_gradio()  # fail in one line before loading TensorFlow
    path = demo.find_model(args.model, args.study)
    from multidigit.model.build import load_model

    model = load_model(path, compile=False)  # inference only: no optimizer state needed
    problem = demo.model_fit_problem(model)
    if problem:
        print(f"multidigit: error: model {str(path)!r} does not fit the demo: {problem}",
              file=sys.stderr)
        return 2
    app = demo.launch(model, host=args.host, port=args.port, share=args.share, block=False,
                      quiet=True)
    url = (getattr(app, "share_url", None) or getattr(app, "local_url", None)
           or f"http://{args.host}:{args.port or 7860}/")
    print(f"multidigit demo: {path} on {url} "
          f"(Ctrl+C stops{'' if args.share else '; --share adds a public link'})")
    app.block_thread()
    return 0


def _data_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from multidigit import data as D

    console = Console(stderr=False)
    if args.data_command == "generate":
        ds = D.load_dataset(
            "mini",
            images_per_class=args.images_per_class,
            n_digits=args.n_digits,
            seed=args.seed,
            progress=True,
        )
        root = D.export_dataset(ds, args.out, overwrite=args.overwrite, progress=True)
        console.print(f"[green]wrote[/green] {ds!r} to {root}", soft_wrap=True)
        return 0
    size = args.image_size
    ds = D.load_dataset(
        args.data,
        image_size=size,
        seed=args.seed,
        images_per_class=args.images_per_class,
        progress=True,
    )
    if args.data_command == "export":
        root = D.export_dataset(ds, args.out, overwrite=args.overwrite, progress=True)
        console.print(f"[green]wrote[/green] {ds!r} to {root}", soft_wrap=True)
        return 0
    summary = ds.describe()
    if getattr(args, "json", False):
        print(json.dumps(summary, indent=2))
        return 0
    table = Table(title=f"multidigit dataset: {ds.source}")
    for col in ("split", "images", "labels", "image shape", "pixels", "labels shared with train"):
        table.add_column(col, justify="right" if col != "split" else "left")
    for name, s in summary["splits"].items():
        table.add_row(
            name,
            f"{s['images']:,}",
            str(s["labels"]),
            "x".join(map(str, s["image_shape"])),
            f"[{s['pixel_min']:.2f}, {s['pixel_max']:.2f}]",
            str(s["labels_shared_with_train"]),
        )
    console.print(table)
    return 0


def _study_command(args: argparse.Namespace) -> int:
    """``multidigit study``: run (or resume) the whole study with a progress display."""
    from multidigit.study import run_study

    run_study(args.data, args.out, quick=args.quick, seed=args.seed,
              full_tuning=args.full_tuning, restart=args.restart, progress=True)
    return 0


# ---- tune (owned with multidigit.tuning)
def _search_space_arg(value: str) -> Any:
    """``--search-space``: a name of SEARCH_SPACES, a ``.json`` file or a JSON string."""
    from pathlib import Path

    from multidigit.errors import ParameterError
    from multidigit.tuning import SEARCH_SPACES

    if value in SEARCH_SPACES:
        return value
    path = Path(value)
    if value.lstrip().startswith("{"):
        text, where = value, "the --search-space JSON string"
    elif path.suffix == ".json" and path.is_file():
        text, where = path.read_text(encoding="utf-8", errors="replace"), str(path)
    elif path.suffix == ".json":
        raise ParameterError(f"search-space file {value} does not exist; give an existing "
                             ".json file, a JSON string or one of " + ", ".join(SEARCH_SPACES))
    else:
        raise ParameterError(
            f"unknown search space {value!r}; use one of {', '.join(SEARCH_SPACES)}, "
            "a path to a .json file or a JSON string in the same format."
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ParameterError(f"{where} is not valid JSON ({exc}); see `multidigit tune "
                             "--help` and the search-space format in the docs.") from None


def _tune_command(args: argparse.Namespace) -> int:
    """``multidigit tune``: run a search, show the live trial table and the best."""
    import os

    from rich.console import Console

    from multidigit.data import load_dataset
    from multidigit.tuning import tune
    from multidigit.tuning.table import fmt

    space = _search_space_arg(args.search_space)
    if args.chief or args.worker is not None:
        os.environ["KERASTUNER_TUNER_ID"] = "chief" if args.chief else f"tuner{args.worker}"
        os.environ["KERASTUNER_ORACLE_IP"] = str(args.chief_ip)
        os.environ["KERASTUNER_ORACLE_PORT"] = str(args.chief_port)
    size = args.image_size
    ds = load_dataset(args.data, image_size=size, seed=args.seed,
                      images_per_class=args.images_per_class)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = tune(ds, search_space=space, tuner=args.tuner, max_trials=args.max_trials,
                      epochs=args.epochs, k=args.k, directory=args.directory,
                      project_name=args.project_name, resume=not args.no_resume,
                      seed=args.seed, retrain=False, progress=not args.chief)
    console = Console()
    for w in caught:  # e.g. files kept by --no-resume: say so, one line each
        if issubclass(w.category, UserWarning):
            console.print(f"[yellow]note:[/yellow] {w.message}", highlight=False,
                          soft_wrap=True)  # a long path stays one line, copyable
    if args.chief:  # workers and local searches showed the live table already
        console.print(result.table(title=f"{args.tuner} search (chief): all trials"))
    console.print(
        f"[bold]best {result.objective}[/bold] = {result.best_score:.4g} with "
        + ", ".join(f"{k}={fmt(v)}" for k, v in result.best_hyperparameters.items())
    )
    return 0


# TensorFlow's start-up chatter.  It is written by C++ (absl) logging before absl is
# initialised, so TF_CPP_MIN_LOG_LEVEL does not hide it, and it appears twice because
# two shared libraries each link their own copy of TensorFlow's platform code
# (libtensorflow_framework.so and the profiler's _pywrap_profiler_plugin.so).
_TF_CHATTER = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "port.cc:",
    "cpu_feature_guard.cc:",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning",
    "cuda_executor.cc",
    "Could not find cuda drivers",
)


@contextlib.contextmanager
def _filtered_stderr(chatter: Sequence[str] = _TF_CHATTER) -> Iterator[None]:
    """Capture file descriptor 2 (C++ writes there, not to ``sys.stderr``) and pass
    every line on except the known chatter, so a real error is never hidden."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
            kept = [ln for ln in text.splitlines(keepends=True)
                    if not any(c in ln for c in chatter)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _quiet_tensorflow(import_now: bool) -> None:
    """Quiet TensorFlow's logs; with ``import_now``, import it with the chatter filtered.

    Only what is printed changes: the oneDNN kernels stay on (TF_ENABLE_ONEDNN_OPTS=0
    would change the numbers).
    """
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if import_now:
        with _filtered_stderr():
            try:
                import tensorflow  # noqa: F401
            except ImportError:  # another Keras backend without TensorFlow installed
                pass
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


# Sub-commands that import TensorFlow (the others answer without it).
_TF_COMMANDS = {"study", "tune", "demo"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _quiet_tensorflow(import_now=args.command in _TF_COMMANDS)
    try:
        if args.command == "data":
            if args.data_command is None:
                parser.parse_args(["data", "--help"])
            return _data_command(args)
        if args.command == "tune":
            return _tune_command(args)
        if args.command == "study":
            return _study_command(args)
        if args.command == "demo":
            return _demo_command(args)
    except MultidigitError as exc:
        print(f"multidigit: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full or read-only disk deep inside a library: one line
        print(f"multidigit: error: {exc.strerror or exc}"
              + (f": {exc.filename!r}" if exc.filename else "")
              + " (free some space or choose a writable folder)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("multidigit: interrupted; finished work is saved, run again to resume.",
              file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

