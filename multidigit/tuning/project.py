"""The tuning project folder: what makes a search resumable, and starting afresh safely.

keras-tuner resumes whatever project it finds, even one made with another search
space, other data or another seed: new trials would then be drawn from the old
space and scores on different data mixed in one table.  So :func:`check_fingerprint`
stores what decides the trials (space, data, seed, tuner, objective, k, epochs,
batch size, activation, loss) next to keras-tuner's files and refuses to resume
when it changed.  And keras-tuner's ``overwrite=True`` deletes the whole folder,
files of the user's included; :func:`clear_project` deletes only what the tuner
(and multidigit) wrote there.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from multidigit._io import is_temp_name
from multidigit.errors import TuningError
from multidigit.tuning.tuner import SIDECAR, read_json, write_json

__all__ = ["FINGERPRINT", "check_fingerprint", "clear_project", "fingerprint"]

FINGERPRINT = "multidigit_project.json"
_TOP_FILES = re.compile(r"^(oracle\.json|tuner\d+\.json|chief\.json)$")
_TRIAL_DIR = re.compile(r"^trial_\d+$")
_TRIAL_FILES = {"trial.json", "build_config.json", "checkpoint.weights.h5", "checkpoint",
                "checkpoint.index", SIDECAR}
_TRIAL_PREFIX = "checkpoint.data-"  # TensorFlow checkpoints of keras-tuner on Keras 2


def data_fingerprint(train: Any, val: Any) -> dict[str, Any]:
    """Cheap identity of the data: sizes, image shape, a hash of the labels."""
    digest = hashlib.sha256()
    sizes = {}
    for name, split in (("train", train), ("val", val)):
        if split is None:
            continue
        ids = np.ascontiguousarray(np.asarray(split.label_ids))
        digest.update(name.encode() + ids.tobytes())
        sizes[name] = int(len(split))
    return {"sizes": sizes, "image_shape": list(train.image_shape),
            "labels_sha256": digest.hexdigest()[:16]}


def fingerprint(space: dict[str, Any], train: Any, val: Any, **settings: Any) -> dict[str, Any]:
    """Everything that changes which trials run and what they score, as JSON data."""
    from multidigit._results import to_jsonable

    return to_jsonable({"search_space": space, "data": data_fingerprint(train, val),
                        **settings})


def check_fingerprint(project: Path, current: dict[str, Any]) -> None:
    """Record ``current`` in ``project``; if one is recorded already, it must match.

    Raises :class:`~multidigit.TuningError` naming what changed and how to start
    afresh.  A project with trials but no fingerprint (made before multidigit kept
    one) is accepted and gets one.
    """
    path = project / FINGERPRINT
    saved = read_json(path) if path.exists() else None
    if saved:
        changed = [key for key in sorted(set(saved) | set(current))
                   if saved.get(key) != current.get(key)]
        if changed:
            what = "; ".join(_describe(key, saved.get(key), current.get(key))
                             for key in changed)
            raise TuningError(
                f"the tuning project {project} was made with other settings ({what}), "
                "so its trials cannot be resumed. Start afresh with resume=False "
                "(multidigit tune --no-resume), or use another directory / project_name."
            )
        return
    project.mkdir(parents=True, exist_ok=True)
    write_json(path, current)


def _describe(key: str, old: Any, new: Any) -> str:
    if key == "data":
        return "the data changed"
    if key == "search_space":
        return "the search space changed"
    return f"{key} was {old!r}, now {new!r}"


def clear_project(project: Path) -> list[Path]:
    """Delete what keras-tuner and multidigit wrote in ``project``; keep the rest.

    Returns the paths kept (and warns about them), so nothing the user put there is
    lost.
    """
    if not project.is_dir():
        return []
    kept: list[Path] = []
    for entry in sorted(project.iterdir()):
        if entry.is_file() and (_TOP_FILES.match(entry.name) or entry.name == FINGERPRINT
                                or _is_our_temp(entry, FINGERPRINT)):
            entry.unlink()
        elif entry.is_dir() and not entry.is_symlink() and _TRIAL_DIR.match(entry.name):
            kept += _clear_trial(entry)
        else:
            kept.append(entry)
    if kept:
        warnings.warn(
            f"started the tuning project {project} afresh but kept {len(kept)} file(s) "
            f"keras-tuner did not write: {', '.join(str(p) for p in kept[:5])}"
            + (" ..." if len(kept) > 5 else ""),
            UserWarning, stacklevel=3,
        )
    return kept


def _is_our_temp(entry: Path, name: str) -> bool:
    """A temporary file left by an interrupted :func:`multidigit._io.atomic_write`."""
    return (entry.name.startswith(f".{name}") and entry.name.endswith(".part")) \
        or is_temp_name(entry.name)


def _clear_trial(folder: Path) -> list[Path]:
    kept = []
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and (entry.name in _TRIAL_FILES
                                or entry.name.startswith(_TRIAL_PREFIX)
                                or _is_our_temp(entry, SIDECAR)):
            entry.unlink()
        elif entry.is_dir() and not entry.is_symlink() and entry.name == "execution0":
            shutil.rmtree(entry)  # keras-tuner's per-execution logs
        else:
            kept.append(entry)
    if not kept:
        folder.rmdir()
    return kept
