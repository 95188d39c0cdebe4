"""The study's output folder: what it may write, what it wrote, what it may delete.

A study writes only into a folder that is empty (or new) or that an earlier
``multidigit study`` made.  The marker file :data:`MARKER` lists every file (and the
tuning project folder) the study wrote, so that

* a resumed run never overwrites a file the user put there (one clear error instead);
* ``--restart`` deletes exactly the files on that list, nothing else;
* a temporary file left by a killed write is recognised and removed on the next run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import weakref
from pathlib import Path, PurePosixPath
from typing import Any

from multidigit._io import atomic_path, atomic_write, clean_stale_temporaries, storage_error
from multidigit._results import to_jsonable
from multidigit.errors import DataError, MultidigitError
from multidigit.study.config import StudyConfig

__all__ = ["MARKER", "StudyFolder", "json_text"]

#: Name of the marker file that says "this folder was written by multidigit study".
MARKER = ".multidigit-study.json"
#: The lock file: one study at a time writes into a folder (see :func:`_lock`).
LOCK = ".multidigit-study.lock"
_WRITER = "multidigit study"
#: Folders this process holds the lock of: real path -> [file descriptor, users].
_LOCKS: dict[str, list[int]] = {}


def _lock(out: Path) -> str:
    """Take the folder's lock (``flock`` on :data:`LOCK`); a second study gets one error.

    The kernel releases the lock when its process ends, killed or not, so a stale
    lock cannot outlive a study.  Studies in one process share it.
    """
    key = os.path.realpath(out)
    if key in _LOCKS:
        _LOCKS[key][1] += 1
        return key
    try:
        import fcntl
    except ImportError:  # Windows: no flock; studies there are not locked
        return key
    try:
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise storage_error(exc, out / LOCK, "lock") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        other = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise DataError(f"another study is writing here ({str(out)!r}, process {other}); "
                        "wait until it ends, or choose another --out folder.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _LOCKS[key] = [fd, 1]
    return key


def _unlock(key: str) -> None:
    entry = _LOCKS.get(key)
    if entry is not None:
        entry[1] -= 1
        if entry[1] <= 0:
            del _LOCKS[key]
            os.close(entry[0])  # releases the flock


def _check_entry(out: Path, rel: Any, is_dir: bool = False) -> None:
    """A marker entry must name a path inside ``out``: ``--restart`` deletes it (a
    file's symbolic link is removed, not followed; a folder must not be a link)."""
    ok = isinstance(rel, str) and rel and not PurePosixPath(rel).is_absolute() \
        and ".." not in PurePosixPath(rel).parts and "\\" not in rel
    if ok:
        real_out = os.path.realpath(out)
        real = os.path.realpath(out / rel if is_dir else (out / rel).parent)
        ok = real.startswith(real_out + os.sep) or (real == real_out and not is_dir)
    if not ok:
        raise DataError(
            f"the study marker {str(out / MARKER)!r} lists {rel!r}, which is not a path "
            "inside the folder; nothing was deleted. The marker was edited by hand: "
            "delete the folder yourself if you no longer need it, or choose another --out."
        )


def _finite(obj: Any) -> Any:
    """NaN and infinities become ``null``: ``json.dumps`` would write invalid JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_text(obj: Any) -> str:
    """``obj`` as indented, valid JSON (numpy types converted, NaN as null)."""
    return json.dumps(_finite(to_jsonable(obj)), indent=2)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{what} {str(path)!r} cannot be read ({type(exc).__name__}: {exc}); run "
            "again with --restart to start this study afresh, or choose another --out folder."
        ) from None


def _check_target(out: Path) -> dict[str, Any] | None:
    """The folder's manifest, ``None`` for a new or empty folder; else a DataError."""
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {str(out)!r} is a file, not a folder; choose a folder path.")
    marker = out / MARKER
    if marker.is_file():
        manifest = _read_json(marker, "the study marker")
        if not (isinstance(manifest, dict) and manifest.get("written_by") == _WRITER
                and isinstance(manifest.get("files"), list)):
            raise DataError(f"the study marker {str(marker)!r} is not a multidigit study "
                            "marker; choose another --out folder.")
        manifest.setdefault("dirs", [])
        if not isinstance(manifest["dirs"], list):
            manifest["dirs"] = [None]
        for rel in manifest["files"]:
            _check_entry(out, rel)
        for rel in manifest["dirs"]:
            _check_entry(out, rel, is_dir=True)
        return manifest
    if out.is_dir() and any(p.name != LOCK for p in out.iterdir()):
        names = sorted(p.name for p in out.iterdir() if p.name != LOCK)
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        older = (" (A study folder written before the marker file existed counts as "
                 "foreign: delete it yourself if you no longer need it.)"
                 if (out / "stages" / "config.json").exists() else "")
        raise DataError(
            f"--out {str(out)!r} is not empty ({shown}) and was not written by multidigit "
            "study; the study writes only into a new or empty folder or one of its own, so "
            f"that none of your files is overwritten. Choose another --out folder.{older}"
        )
    return None


def _config_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted(set(old) | set(new))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys
                     if old.get(k) != new.get(k))


class StudyFolder:
    """Bookkeeping of one output folder: stage files, figures, console output.

    Parameters
    ----------
    out : Path
        The output folder (created if missing).
    config : StudyConfig
        The run's settings; a folder holding a run with other settings is refused
        unless ``restart``.
    restart : bool
        Delete what the study wrote there before (and only that) and start afresh.
    console : rich.console.Console or None
        Where stage messages go; ``None`` keeps quiet.

    Examples
    --------
    >>> folder = StudyFolder(Path("study"), StudyConfig.make(quick=True))  # doctest: +SKIP
    >>> folder.write_text("notes.txt", "hello")                          # doctest: +SKIP
    """

    def __init__(self, out: Path, config: StudyConfig, restart: bool = False,
                 console: Any = None) -> None:
        self.out = out
        self.config = config
        self.console = console
        self.stage_dir = out / "stages"
        self.fig_dir = out / "figures"
        _check_target(out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the --out folder {str(out)!r}: {exc}") from None
        key = _lock(out)  # then read the marker again: another study may have written it
        self.close = weakref.finalize(self, _unlock, key)
        manifest = _check_target(out)
        self.files: list[str] = list(manifest["files"]) if manifest else []
        self.dirs: list[str] = list(manifest["dirs"]) if manifest else []
        if restart:
            self._delete_written()
        self._remove_stale_temporaries()
        self._save_manifest()
        self._check_config(restart)
        self.t0 = time.perf_counter()
        self.done_weight = 0.0

    # ------------------------------------------------------------------ manifest
    def _save_manifest(self) -> None:
        manifest = {"written_by": _WRITER, "files": sorted(set(self.files)),
                    "dirs": sorted(set(self.dirs))}
        atomic_write(self.out / MARKER, json.dumps(manifest, indent=2))

    def claim(self, rel: str, is_dir: bool = False) -> Path:
        """Record ``rel`` as written by the study, refusing to take over a user's file."""
        path = self.out / rel
        listed = self.dirs if is_dir else self.files
        if rel not in listed:
            if path.exists() or path.is_symlink():
                raise DataError(
                    f"{str(path)!r} exists and was not written by multidigit study; move it "
                    "away or choose another --out folder."
                )
            listed.append(rel)
            self._save_manifest()  # listed before it is written: --restart finds it
        return path

    def _delete_written(self) -> None:
        """``--restart``: delete the files and folders the study wrote, and nothing else."""
        for rel in self.files:
            path = self.out / rel
            if path.is_file() or path.is_symlink():
                path.unlink()
        for rel in self.dirs:  # the tuning project: every file in it is the tuner's
            shutil.rmtree(self.out / rel, ignore_errors=True)
        self.files, self.dirs = [], []

    def _remove_stale_temporaries(self) -> None:
        """Temporaries of a killed atomic write (``.md-...``; earlier versions:
        ``.NAME<random>.part`` / ``.png``)."""
        for rel in self.files:
            path = self.out / rel
            if not path.parent.is_dir():
                continue
            clean_stale_temporaries(path)
            for tmp in path.parent.glob(f".{path.name}?*"):
                if tmp.is_file() and tmp.suffix in (".part", path.suffix):
                    tmp.unlink()

    def _check_config(self, restart: bool) -> None:
        cfg = to_jsonable(self.config.to_dict())
        cfg_path = self.stage_dir / "config.json"
        if not restart and "stages/config.json" in self.files and cfg_path.exists():
            old = _read_json(cfg_path, "the study settings file")
            if old != cfg:
                changes = _config_changes(old, cfg) if isinstance(old, dict) else "all"
                raise MultidigitError(
                    f"{str(self.out)!r} holds a study run with other settings ({changes}); "
                    "pass --restart to start it again from scratch (this deletes the "
                    "earlier run's results), or choose another --out folder."
                )
        self.write_text("stages/config.json", json.dumps(cfg, indent=2))

    # ------------------------------------------------------------------ files
    def write_text(self, rel: str, text: str) -> Path:
        """Write ``text`` atomically to ``out/rel`` and list it in the marker."""
        path = self.claim(rel)
        atomic_write(path, text)
        return path

    def load(self, stage: str) -> dict[str, Any] | None:
        """The saved result of ``stage``, ``None`` if it has not finished yet."""
        rel = f"stages/{stage}.json"
        path = self.out / rel
        if rel not in self.files or not path.exists():
            return None
        return _read_json(path, f"the saved result of stage {stage!r}")

    def save(self, stage: str, result: dict[str, Any]) -> None:
        """Save the result of a finished stage."""
        self.write_text(f"stages/{stage}.json", json_text(result))

    def figure(self, fig: Any, name: str) -> str:
        """Save ``fig`` as ``figures/NAME.png`` (atomically) and close it."""
        import matplotlib.pyplot as plt

        path = self.claim(f"figures/{name}.png")
        try:
            # matplotlib picks the format by suffix, so the temporary ends in .png;
            # a killed write leaves no 0-byte figures/NAME.png, only a temporary.
            with atomic_path(path, suffix=".png") as tmp:
                fig.savefig(tmp, dpi=90, bbox_inches="tight")
        finally:
            plt.close(fig)
        return path.name

    def tuning_project(self) -> Path:
        """The folder of the study's keras-tuner project (deleted by ``--restart``)."""
        self.claim("tuning", is_dir=True)
        return self.out / "tuning"

    # ------------------------------------------------------------------ console
    def say(self, text: str) -> None:
        """Print a stage message (rich markup) if there is a console; never wrapped,
        so a long path stays one line a user can copy."""
        if self.console is not None:
            self.console.print(text, soft_wrap=True)

    def eta(self) -> str:
        """Elapsed time and, once some work is done, an estimate of what is left."""
        elapsed = time.perf_counter() - self.t0
        if self.done_weight <= 0.05:
            return f"elapsed {elapsed:.0f}s"
        total = elapsed / self.done_weight
        return f"elapsed {elapsed:.0f}s, about {max(0.0, total - elapsed) / 60:.1f} min left"
