"""The settings of one study run: :class:`StudyConfig`, its presets and search spaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EXPLAINER_OPTIONS", "QUICK_SPACE", "STUDY_SMALL_SPACE", "StudyConfig",
           "explainer_options"]

#: A small search space around the default model that fits the default run's budget
#: on a 2-core CPU.
STUDY_SMALL_SPACE: dict[str, dict[str, Any]] = {
    "preset": {"type": "fixed", "value": "shared"},
    "conv_1": {"type": "choice", "values": [24, 32]},
    "conv_2": {"type": "choice", "values": [48, 64]},
    "conv_3": {"type": "choice", "values": [96, 128]},
    "dense_units": {"type": "choice", "values": [128, 256]},
    "learning_rate": {"type": "choice", "values": [1e-3, 2e-3]},
}

#: The --quick run's space: two tiny trials.
QUICK_SPACE: dict[str, dict[str, Any]] = {
    "preset": {"type": "fixed", "value": "shared"},
    "conv_1": {"type": "choice", "values": [8, 16]},
    "conv_2": {"type": "fixed", "value": 32},
    "dense_units": {"type": "fixed", "value": 64},
}

#: Keywords the explain stage passes to particular explainers: ``(default run, --quick
#: run)``; every other explainer runs with its own defaults.
EXPLAINER_OPTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "deepdream": ({"steps": 20}, {"steps": 5}),
    "activation_maximization": ({"steps": 20}, {"steps": 5}),
    # the 32 most active channels: a few seconds, not minutes
    "scorecam": ({"max_n": 32}, {"max_n": 32}),
    "rise": ({"n_masks": 500}, {"n_masks": 100}),
}


def explainer_options(name: str, quick: bool) -> dict[str, Any]:
    """The keywords the study passes to explainer ``name`` (see :data:`EXPLAINER_OPTIONS`).

    Examples
    --------
    >>> explainer_options("rise", quick=True), explainer_options("saliency", quick=False)
    ({'n_masks': 100}, {})
    """
    default, quick_run = EXPLAINER_OPTIONS.get(name, ({}, {}))
    return dict(quick_run if quick else default)


@dataclass
class StudyConfig:
    """Settings of one study run; :meth:`make` builds the ``quick`` and default presets.

    Examples
    --------
    >>> cfg = StudyConfig.make(quick=True, seed=1)
    >>> cfg.seed, cfg.quick, cfg.final_epochs
    (1, True, 6)
    """

    data: str = "mini"
    seed: int = 0
    image_size: int | None = None
    images_per_class: int = 10
    preset: str = "shared"
    filters: tuple[int, ...] = (32, 64, 128)
    dense_units: int = 256
    compare_k: int = 2
    compare_epochs: int = 2
    #: 2 folds: the cross-validation shows the base model's spread, and 2 folds cost
    #: about half of 3 (measured: benchmarks/README.md, "Why the study's settings")
    cv_k: int = 2
    cv_epochs: int = 2
    tune_space: Any = field(default_factory=lambda: dict(STUDY_SMALL_SPACE))
    tune_tuner: str = "random"
    tune_trials: int = 2
    tune_epochs: int = 2
    #: 8 epochs read mini's test split as well as 12 did, in two thirds of the time;
    #: 6 and 7 read below 98.5 % (benchmarks/README.md, "Why the study's settings")
    final_epochs: int = 8
    #: compare, cross-validation and tuning read this many images of every label
    #: combination (the first ones of each split; None: all): they only rank
    #: settings, the final model trains on every image of train + val.  3, not 4: the
    #: same winner and the same tie on two seeds, a quarter less time; 2 changed the
    #: winner (benchmarks/README.md, "Why the study's settings")
    experiment_images_per_class: int | None = 3
    #: batch of the final training (and of a tuned trial without its own): 128, not
    #: train()'s 64: on mini's 8,000 images the tuned model read better and faster
    #: per image at 128 (benchmarks/README.md, "Why the study's settings")
    batch_size: int = 128
    #: batch of the short compare / cross-validation / tuning runs: more steps for
    #: the same images, which short runs need more than throughput (batch 32 ranks
    #: the objectives with closer folds than 64 in the same time: benchmarks/README.md,
    #: "Why the study's settings")
    experiment_batch_size: int = 32
    schedule: str = "onecycle"
    n_explain: int = 4
    quick: bool = False

    @classmethod
    def make(cls, *, data: str = "mini", seed: int = 0, quick: bool = False,
             full_tuning: bool = False) -> StudyConfig:
        """The default settings, the ``quick`` ones, optionally with the full search."""
        if quick:
            cfg = cls(data=data, seed=seed, images_per_class=2, filters=(16, 32),
                      dense_units=64, compare_k=2, compare_epochs=1, cv_k=2, cv_epochs=1,
                      tune_space=dict(QUICK_SPACE), tune_trials=2, tune_epochs=1,
                      final_epochs=6, n_explain=2, experiment_images_per_class=None,
                      quick=True)
        else:
            cfg = cls(data=data, seed=seed)
        if full_tuning:  # the study's own search: 20 trials x 20 epochs over its space
            cfg.tune_space, cfg.tune_trials, cfg.tune_epochs = "study", 20, 20
            cfg.batch_size, cfg.experiment_batch_size, cfg.schedule = 32, 32, "step"
            cfg.experiment_images_per_class = None  # the study searched on all of train
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (``filters`` as a list)."""
        d = dict(self.__dict__)
        d["filters"] = list(self.filters)
        return d

    def model_params(self) -> dict[str, Any]:
        """The :func:`multidigit.build_model` keywords of the study's base model."""
        return {"preset": self.preset, "filters": list(self.filters),
                "dense_units": self.dense_units}
