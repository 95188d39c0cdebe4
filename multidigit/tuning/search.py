""":func:`tune`: check the arguments, prepare the project, search, pick and rebuild the best.

Each step is a named function below; :func:`tune` reads as the list of them.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from multidigit import _defaults as D
from multidigit._param_validation import Body, Bool, Choice, Free, Int, fail, validate_params
from multidigit.errors import StorageError, TuningError
from multidigit.tuning import tuner as glue
from multidigit.tuning.project import check_fingerprint, clear_project, fingerprint
from multidigit.tuning.result import TuneResult
from multidigit.tuning.spaces import check_search_space
from multidigit.tuning.table import TrialTable

__all__ = ["tune"]


def _activations() -> tuple[str, ...]:
    from multidigit.model.losses import ACTIVATIONS  # imports Keras: read when tune() is called

    return ACTIVATIONS


def _losses() -> tuple[str, ...]:
    from multidigit.model.losses import LOSSES

    return LOSSES


@validate_params({
    "data": Body("a dataset with .train and .val splits"),
    "search_space": Body("a name of SEARCH_SPACES or a dict of hyperparameters"),
    "tuner": Choice(glue.TUNERS),
    "max_trials": Int(min=1),
    "epochs": Int(min=1, none_ok=True),
    "objective": Body("a metric name such as 'val_loss'"),
    "k": Int(min=2, none_ok=True, hint="None scores trials on the validation split."),
    "directory": Free("a folder path; the file system checks it"),
    "project_name": Free("a folder name inside directory"),
    "resume": Bool(),
    "seed": Int(min=0),
    "batch_size": Int(min=1),
    "retrain": Bool(),
    "progress": Bool(),
    "activation": Choice(_activations),
    "loss": Choice(_losses),
})
def tune(
    data: Any,
    *,
    search_space: str | Mapping[str, Any] = "shared",
    tuner: str = D.TUNER,
    max_trials: int = 10,
    epochs: int | None = D.EPOCHS,
    objective: str = "val_loss",
    k: int | None = None,
    directory: str | os.PathLike[str] = D.TUNING_FOLDER,
    project_name: str = "search",
    resume: bool = True,
    seed: int = D.SEED,
    batch_size: int = D.BATCH_SIZE,
    retrain: bool = True,
    progress: bool = False,
    activation: str = D.ACTIVATION,
    loss: str = D.LOSS,
) -> TuneResult:
    """Search hyperparameters of the digit CNN with keras-tuner.

    Parameters
    ----------
    data : MultiDigitDataset
        Trials train on ``data.train`` and are scored on ``data.val`` (or by grouped
        ``k``-fold cross-validation of ``data.train``).  ``data.test`` is never used.
    search_space : str or dict
        A name of :data:`SEARCH_SPACES` (``"shared"``: around the default model;
        ``"study"``: the study's search, with ``batch_size=32``; ``"wide"``,
        ``"tiny"``) or a dict in the same format (see :func:`check_search_space`).
    tuner : {"hyperband", "random", "bayesian"}
        ``keras_tuner.Hyperband`` (``max_epochs=epochs``, factor 3),
        ``RandomSearch`` (the study's) or ``BayesianOptimization``.
    max_trials : int
        Most trials in the project (also for Hyperband), counting resumed ones.
    epochs : int, optional
        Epochs per trial (Hyperband: the most a trial gets); ``None`` (default): the
        recipe's, :func:`multidigit.default_epochs` of the train split and
        ``batch_size`` (as :func:`multidigit.train`).
    objective : str
        Metric to optimise; ``"val_loss"`` (the study's, minimised) or e.g.
        ``"val_digit_0_accuracy"`` (maximised: names with ``acc``, ``auc``,
        ``precision`` or ``recall`` are maximised, others minimised).  A trial's
        score is its best epoch.
    k : int, optional
        Score each trial by the mean over ``k`` grouped folds of the train split
        (:func:`multidigit.experiments.cross_validation.make_folds`); costs ``k`` trainings a trial.
    directory, project_name : str
        Where keras-tuner keeps its project (``directory/project_name``).
    resume : bool
        Continue the project found there (finished trials are kept, an interrupted
        one is rerun).  The project remembers the search space, the data, the seed
        and the other settings that decide the trials; resuming with other ones
        raises :class:`~multidigit.TuningError`.  ``False`` starts afresh, deleting
        only what keras-tuner and multidigit wrote in the project folder.
    seed : int
        Seeds the tuner's sampling, the weights and the data order of every trial.
    batch_size : int
        Batch size (unless the space tunes ``batch_size``); default
        :func:`multidigit.train`'s, 64.
    retrain : bool
        Retrain the best configuration on the train split (see
        :attr:`TuneResult.best_model`); otherwise restore the best trial's weights.
    progress : bool
        Show a live table of the trials (rich).  keras-tuner's own printing is
        always silenced.
    activation, loss : str
        Output activation and loss; the defaults are :func:`multidigit.build_model`'s
        (``"softmax"``, ``"binary_crossentropy"``).

    Returns
    -------
    TuneResult

    Raises
    ------
    ParameterError
        A bad argument or search space.
    TuningError
        The project was made with other settings, or every trial failed.

    Notes
    -----
    Distributed search: set ``KERASTUNER_TUNER_ID`` (``"chief"`` / ``"tuner0"``...),
    ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` (or use
    ``multidigit tune --chief`` / ``--worker ID``).  The chief serves the oracle and
    returns the whole table when all trials are done; a worker's result only lists
    the trials it ran.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset("mini", images_per_class=1, image_size=(28, 28))
    >>> result = md.tune(ds, search_space="tiny", tuner="random", max_trials=2,
    ...                  epochs=1, directory="/tmp/md-tune")          # doctest: +SKIP
    >>> result.best_hyperparameters                                    # doctest: +SKIP
    {'preset': 'small', 'conv_1': 8, 'dense_units': 16}
    """
    if not isinstance(objective, str) or not objective:
        raise fail("objective", "a metric name such as 'val_loss'", objective)
    space = check_search_space(search_space)
    train, val = _splits(data, k)
    if epochs is None:  # the recipe's, as train() counts them
        from multidigit.training.fit import default_epochs

        epochs = default_epochs(len(train), batch_size)
    _check_tensorboard()
    started = time.perf_counter()
    hm = glue.hypermodel_class()(
        space, input_shape=train.image_shape, n_digits=train.n_digits,
        activation=activation, loss=loss, seed=seed,
    )
    project = Path(directory) / project_name
    _prepare_project(project, resume, fingerprint(
        space, train, val if k is None else None, seed=seed, tuner=tuner,
        objective=objective, k=k, epochs=epochs, batch_size=batch_size,
        activation=activation, loss=loss))
    t = _make_tuner(tuner, hm, objective=objective, seed=seed, directory=directory,
                    project_name=project_name, max_trials=max_trials, epochs=epochs)
    t._md = {"train": train, "k": k, "seed": seed, "epochs": epochs,
             "batch_size": batch_size, "running": {}, "mine": {}, "callback": None}
    _run_search(t, train, val, k=k, epochs=epochs, batch_size=batch_size,
                live=_live_table(t, progress, tuner, objective, max_trials))
    rows = glue.records(t)
    best_row = _best_row(t, rows, tuner, project)
    best_model, source = _best_model(t, best_row, hm, train, retrain=retrain, k=k,
                                     epochs=epochs, batch_size=batch_size)
    return TuneResult(
        best_hyperparameters=dict(best_row["hyperparameters"]), best_score=best_row["score"],
        trials=rows, objective=objective, direction=t.oracle.objective.direction,
        tuner=tuner, search_space=space, k=k, directory=str(directory),
        project_name=project_name, best_model=best_model, best_model_source=source,
        seconds=round(time.perf_counter() - started, 3),
    )


def _splits(data: Any, k: int | None) -> tuple[Any, Any]:
    """``data.train`` and ``data.val``, checked against what the search needs."""
    from multidigit.errors import DataError

    train = getattr(data, "train", None)
    val = getattr(data, "val", None)
    if train is None or not hasattr(train, "one_hot"):
        raise fail("data", "a dataset with .train and .val splits (multidigit.load_dataset)",
                   type(data).__name__)
    if k is None and (val is None or len(val) == 0):
        raise DataError("the dataset has no validation images; pass k=... to cross-validate.")
    n_groups = len(np.unique(train.label_ids))
    if k is not None and n_groups < k:
        raise fail("k", f"an integer in [2, {n_groups}] (the label combinations of the "
                   "train split: grouped folds need one each)", k)
    return train, val


def _check_tensorboard() -> None:
    import keras

    if keras.config.backend() != "tensorflow":
        return  # keras-tuner imports tensorboard only with the TensorFlow backend
    try:  # keras-tuner imports it inside every trial; without it every trial fails.
        import tensorboard.plugins.hparams.api  # noqa: F401
    except ImportError as exc:
        raise TuningError(
            f"keras-tuner needs tensorboard in every trial, and it cannot be imported "
            f"({exc}); install it: pip install tensorboard."
        ) from exc


def _prepare_project(project: Path, resume: bool, current: dict[str, Any]) -> None:
    """Start afresh (deleting only the tuner's files) or check the project may resume.

    Workers share the chief's folder: they neither delete nor record anything there.
    """
    if glue.is_worker():
        return
    if not resume:
        clear_project(project)
    check_fingerprint(project, current)


def _make_tuner(kind: str, hm: Any, *, objective: str, seed: int, directory: Any,
                project_name: str, max_trials: int, epochs: int) -> Any:
    """keras-tuner's tuner ``kind``, created (or reloaded) silently."""
    import keras_tuner as kt

    worker = glue.is_worker()
    common = dict(
        objective=kt.Objective(objective, glue.direction_of(objective)),
        # keras-tuner's Oracle does ``self.seed = seed or random.randint(1, 10000)``:
        # seed 0 (our default) would mean "unseeded". Shift it so every seed is honoured.
        seed=int(seed) + 1,
        directory=str(directory),
        project_name=project_name,
        overwrite=False,  # _prepare_project cleared what had to go; kt would delete all
    )
    cls = glue.tuner_class(kind)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if kind == "hyperband":
                t = cls(hm, max_epochs=epochs, factor=3,
                        hyperband_iterations=None, **common)
            else:
                t = cls(hm, max_trials=max_trials, **common)
    except Exception as exc:
        raise TuningError(
            f"could not create the {kind} tuner in {directory}/{project_name}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not worker:  # Hyperband has no cap of its own; a reloaded oracle may have another
        t.oracle.max_trials = max_trials
    return t


def _live_table(t: Any, progress: bool, kind: str, objective: str,
                max_trials: int) -> Any:
    """A rich ``Live`` table refreshed at every trial's start and end (or ``None``)."""
    if not progress:
        return None
    from rich.console import Console
    from rich.live import Live

    live = Live(console=Console(file=sys.stdout), refresh_per_second=2,
                redirect_stdout=False, redirect_stderr=False)

    def refresh(tu: Any) -> None:
        rows = glue.records(tu)
        done = sum(r["status"] == "COMPLETED" for r in rows)
        distributed = glue.is_worker() or glue.is_chief()
        live.update(TrialTable(rows, objective, show_worker=distributed or None,
                               title=f"{kind} search ({done}/{max_trials} trials done)"),
                    refresh=True)

    t._md["callback"] = refresh
    return live


def _run_search(t: Any, train: Any, val: Any, *, k: int | None, epochs: int,
                batch_size: int, live: Any) -> None:
    """``t.search`` with keras-tuner's printing swallowed; its give-up as TuningError."""
    fit_kwargs: dict[str, Any] = dict(epochs=epochs, batch_size=batch_size, verbose=0)
    if k is None:
        fit_kwargs["validation_data"] = (val.images, val.one_hot())
    try:
        with contextlib.ExitStack() as stack:
            if live is not None:
                stack.enter_context(live)
            stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
            if k is None:
                t.search(train.images, train.one_hot(), **fit_kwargs)
            else:
                t.search(**fit_kwargs)
        if live is not None:
            live.console.line()
    except RuntimeError as exc:
        if "consecutive failures" in str(exc):
            raise TuningError(
                f"the search stopped: {glue.short(str(exc).splitlines()[0])}; the last "
                f"trial failed with: {glue.short(str(exc))}"
            ) from exc
        raise
    except Exception as exc:
        err = _disk_error(exc, Path(t.project_dir))
        if err is not None:
            raise err from exc
        raise


#: OS errors of a full or read-only disk, found by their text in TensorFlow's errors.
_DISK_ERRNOS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES)


def _disk_error(exc: Exception, project: Path) -> Exception | None:
    """A full or read-only disk while keras-tuner writes ``project`` as StorageError.

    keras-tuner writes through ``tf.io.gfile``, whose errors (``PermissionDeniedError``:
    "...; Read-only file system") are no ``OSError`` and carry no errno: the OS's
    message in their text tells the cause.
    """
    from multidigit._io import storage_error

    if isinstance(exc, OSError):
        code = exc.errno
    elif type(exc).__module__.startswith("tensorflow"):
        code = next((c for c in _DISK_ERRNOS if os.strerror(c) in str(exc)), None)
    else:
        return None
    if code not in _DISK_ERRNOS or isinstance(exc, StorageError):
        return None
    return storage_error(OSError(code, os.strerror(code)), project,
                         "write the tuning project",
                         "The trials finished before are kept: run again to resume.")


def _best_row(t: Any, rows: list[dict[str, Any]], kind: str, project: Path) -> dict[str, Any]:
    """The best completed trial; every trial failing is a TuningError with the cause."""
    done_rows = [r for r in rows if r["status"] == "COMPLETED"]
    if not done_rows:
        errors_ = [r["error"] for r in rows if r["error"]]
        raise TuningError(
            f"all {len(rows)} trials of the {kind} search failed; first error: "
            f"{errors_[0] if errors_ else 'unknown'}. Details in "
            f"{project}/trial_*/trial.json."
        )
    pick = min if t.oracle.objective.direction == "min" else max
    return pick(done_rows, key=lambda r: r["score"])


def _best_model(t: Any, best_row: dict[str, Any], hm: Any, train: Any, *, retrain: bool,
                k: int | None, epochs: int, batch_size: int) -> tuple[Any, str | None]:
    """The best configuration retrained on ``train``, or its checkpoint restored."""
    worker, chief = glue.is_worker(), glue.is_chief()
    if retrain and not chief:
        trial = (t._md["mine"] if worker else t.oracle.trials)[best_row["trial_id"]]
        n_epochs = int(trial.hyperparameters.values.get("tuner/epochs", epochs))
        values = best_row["hyperparameters"]
        import keras

        keras.backend.clear_session()
        model = glue._build(values, hm)
        glue._fit(model, train.images, train.one_hot(), epochs=n_epochs,
                  batch_size=int(values.get("batch_size", batch_size)))
        return model, "retrained"
    if not retrain and k is None and not worker and not chief:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = t.load_model(t.oracle.trials[best_row["trial_id"]])
        return model, "restored"
    return None, None
