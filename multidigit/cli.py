"""The ``multidigit`` command line: ``data``, ``tune``, ``study`` and friends.

Each sub-command's work lives in the module named for its concept; this module only
parses arguments (argparse) and imports the heavy modules lazily, so ``multidigit
--help`` answers instantly.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any, Sequence

from .errors import MultidigitError

__all__ = ["main", "build_parser"]


def _add_data_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="mini",
        help="dataset source: 'mini' (offline, default), a folder path, or hf://owner/name",
    )
    p.add_argument("--image-size", type=int, default=None, help="resize images to N x N")
    p.add_argument("--images-per-class", type=int, default=10, help="'mini' only")
    p.add_argument("--seed", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``multidigit`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="multidigit",
        description="Multi-label digit classification on Triple MNIST: data, "
        "training, tuning, explanations and the whole study.",
    )
    parser.add_argument("--version", action="version", version=f"multidigit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # ---- data
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

    # ---- tune
    tune = sub.add_parser("tune", help="hyperparameter search with keras-tuner")
    _add_data_source(tune)
    tune.add_argument("--tuner", default="hyperband", choices=["random", "hyperband", "bayesian"])
    tune.add_argument("--search-space", default="study",
                      help="a named space (study, wide, tiny), a .json file or a JSON string")
    tune.add_argument("--max-trials", type=int, default=10)
    tune.add_argument("--epochs", type=int, default=5)
    tune.add_argument("--k", type=int, default=None, help="score trials by k-fold CV")
    tune.add_argument("--directory", default="multidigit-tuning")
    tune.add_argument("--project-name", default="search")
    tune.add_argument("--no-resume", action="store_true")
    role = tune.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true", help="run the distributed oracle")
    role.add_argument("--worker", metavar="ID", default=None, help="run as a distributed worker")
    tune.add_argument("--chief-ip", default="127.0.0.1")
    tune.add_argument("--chief-port", default="8000")

    # ---- study
    study = sub.add_parser("study", help="reproduce the whole study and write a report")
    study.add_argument("--data", default="mini")
    study.add_argument("--out", default="multidigit-study")
    study.add_argument("--quick", action="store_true", help="tiny settings (CI, tests)")
    study.add_argument("--full-tuning", action="store_true", help="study-sized tuning run")
    study.add_argument("--seed", type=int, default=0)
    study.add_argument("--restart", action="store_true", help="ignore finished stages")
    return parser


def _data_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from . import data as D

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
        console.print(f"[green]wrote[/green] {ds!r} to {root}")
        return 0
    size = (args.image_size, args.image_size) if args.image_size else None
    ds = D.load_dataset(
        args.data,
        image_size=size,
        seed=args.seed,
        images_per_class=args.images_per_class,
        progress=True,
    )
    if args.data_command == "export":
        root = D.export_dataset(ds, args.out, overwrite=args.overwrite, progress=True)
        console.print(f"[green]wrote[/green] {ds!r} to {root}")
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


# ---- tune (owned with multidigit.tuning)
def _search_space_arg(value: str) -> Any:
    """``--search-space``: a name of SEARCH_SPACES, a ``.json`` file or a JSON string."""
    from pathlib import Path

    from .errors import ParameterError
    from .tuning import SEARCH_SPACES

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

    from .data import load_dataset
    from .tuning import tune
    from .tuning.table import fmt

    space = _search_space_arg(args.search_space)
    if args.chief or args.worker is not None:
        os.environ["KERASTUNER_TUNER_ID"] = "chief" if args.chief else f"tuner{args.worker}"
        os.environ["KERASTUNER_ORACLE_IP"] = str(args.chief_ip)
        os.environ["KERASTUNER_ORACLE_PORT"] = str(args.chief_port)
    size = (args.image_size, args.image_size) if args.image_size else None
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
            console.print(f"[yellow]note:[/yellow] {w.message}", highlight=False)
    if args.chief:  # workers and local searches showed the live table already
        console.print(result.table(title=f"{args.tuner} search (chief): all trials"))
    console.print(
        f"[bold]best {result.objective}[/bold] = {result.best_score:.4g} with "
        + ", ".join(f"{k}={fmt(v)}" for k, v in result.best_hyperparameters.items())
    )
    return 0


def _quiet_tensorflow() -> None:
    """Silence TensorFlow's Python-side warnings (retracing notes) on the command line."""
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _quiet_tensorflow()
    try:
        if args.command == "data":
            if args.data_command is None:
                parser.parse_args(["data", "--help"])
            return _data_command(args)
        if args.command == "tune":
            return _tune_command(args)
        if args.command == "study":
            from .study import run_cli

            return run_cli(args)
    except MultidigitError as exc:
        print(f"multidigit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("multidigit: interrupted; finished work is saved, run again to resume.",
              file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

