"""Hyperparameter search with keras-tuner: random, Hyperband or Bayesian.

The study tuned its CNN with ``keras_tuner.RandomSearch`` (20 trials x 20 epochs
over the filters of three conv blocks and the dense width, objective ``val_loss``;
5 h 47 on a cloud GPU; best ``conv 96/128/128, dense 256``).  :func:`tune` runs the
same kind of search with keras-tuner's own tuners, on a search space written as
plain data, and returns a :class:`TuneResult` (best hyperparameters, a trial table,
a plot, optionally the best model retrained).

What this package adds to keras-tuner, and where:

* :mod:`~multidigit.tuning.spaces`: search spaces are data (:data:`SEARCH_SPACES`),
  validated up front (:func:`check_search_space`), mapped onto
  :func:`multidigit.build_model` (:func:`model_kwargs`);
* :mod:`~multidigit.tuning.tuner`: the keras-tuner glue: ``k``-fold *grouped*
  cross-validation scoring of each trial, per-trial timing, the trial records;
* :mod:`~multidigit.tuning.project`: a project remembers the space, data and seed
  it was made with and refuses to resume with others; starting afresh deletes only
  the tuner's own files;
* :mod:`~multidigit.tuning.search`: :func:`tune` itself (a search whose every trial
  crashed raises :class:`~multidigit.TuningError`; keras-tuner's printing is
  silenced; ``progress=True`` shows a rich live table);
* :mod:`~multidigit.tuning.result` and :mod:`~multidigit.tuning.table`:
  :class:`TuneResult`, its rich table (readable at 80 columns) and notebook HTML.

Distributed tuning (one chief oracle, several workers) is driven by the
``multidigit tune --chief / --worker ID`` command line (:mod:`multidigit.cli`).
"""

from __future__ import annotations

from multidigit.tuning.result import TuneResult
from multidigit.tuning.search import tune
from multidigit.tuning.spaces import SEARCH_SPACES, check_search_space, model_kwargs
from multidigit.tuning.tuner import TUNERS

__all__ = [
           "SEARCH_SPACES",
           "TUNERS",
           "TuneResult",
           "check_search_space",
           "model_kwargs",
           "tune",
]
