"""Atomic file writes and folder swaps: the one way multidigit writes a file or
replaces a folder (the data cache, models, checkpoints, CSV logs, tuning, the study,
dataset exports).

A write goes to a temporary file beside the target, named ``.md-<host>-<pid>-<random>``
plus a suffix, and is renamed onto the target when done.  The name is short and does
not grow with the target's, so a legal name (up to 255 bytes) never gives a temporary
name that is too long.  Things the standard library's :func:`tempfile.mkstemp` does not
do are added by hand:

- the finished file gets the mode a plain ``open(path, "w")`` would give it
  (``0o666`` less the umask), not mkstemp's private ``0o600``;
- a write killed outright (SIGKILL, power loss) cannot remove its temporary, so the
  next write into the same folder removes the ones left over: those whose writer
  process, on this host, no longer runs, and any older than :data:`STALE_AFTER`
  seconds (a writer on another host sharing the folder).  Only names matching our own
  pattern are touched (also the longer ``.<target>.<host>-<pid>.<random>.part`` names
  of earlier versions, for that one target);
- an OS error (full disk, read-only filesystem) becomes one :class:`StorageError`
  naming the path; the old file is kept.

A folder is replaced by :func:`swap_folder`: the new one is built in a temporary
folder beside it and exchanged with the old one in one atomic ``renameat2`` call
(Linux), so a killed process leaves either the whole old folder or the whole new one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from multidigit.errors import StorageError

__all__ = ["STALE_AFTER", "atomic_path", "atomic_write", "is_temp_name", "swap_folder"]

#: Seconds after which any temporary of a target is considered abandoned.
STALE_AFTER = 15 * 60
#: mkstemp's random part: 8 characters of ``tempfile._RandomNameSequence``.
_RANDOM = r"[a-z0-9_]{8}"
#: Our temporaries: ``.md-<host tag>-<pid>-<random>`` and any suffix.
_TEMP = re.compile(rf"^\.md-(?P<host>[0-9a-f]{{6}})-(?P<pid>\d+)-{_RANDOM}(?:\.[^/]*)?$")


def _step(name: str) -> None:
    """A no-op between the steps of a write; tests replace it to kill the process there."""


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _old_host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our temporary names (``.md-...``).

    Examples
    --------
    >>> is_temp_name(".md-0a1b2c-123-abcdefgh.part"), is_temp_name("notes.txt")
    (True, False)
    """
    return _TEMP.match(name) is not None


def _old_pattern(name: str, suffix: str) -> re.Pattern[str]:
    """Temporaries of target ``name`` by earlier versions (host and pid, or neither)."""
    return re.compile(
        rf"^\.{re.escape(name)}(?:\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)\.)?{_RANDOM}"
        rf"{re.escape(suffix)}$"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists but is not ours, or cannot tell
        return True
    return True


def _is_stale(path: Path, match: re.Match[str], host: str, now: float) -> bool:
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER:
        return True
    pid = match.group("pid")
    return (pid is not None and match.group("host") == host and int(pid) != os.getpid()
            and not _pid_alive(int(pid)))


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            _restore_aside(path)
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return True
    except OSError:  # another process cleaned it first, or no permission
        return False


def _restore_aside(aside: Path) -> None:
    """Put back the old folder a killed :func:`_two_renames` left in ``aside``."""
    try:
        name = (aside / "target").read_text()
    except (OSError, UnicodeDecodeError):
        return
    target = aside.parent / name
    if "/" not in name and name not in ("", ".", "..") and (aside / "old").is_dir() and not os.path.lexists(target):
        os.replace(aside / "old", target)


def clean_stale_temporaries(path: str | os.PathLike[str], suffix: str = ".part") -> list[Path]:
    """Remove abandoned temporaries beside ``path`` (see the module notes); return them.

    Examples
    --------
    >>> import os, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> old = d / ".md-000000-1-abcdefgh.part"
    >>> _ = old.write_bytes(b"")
    >>> os.utime(old, (0, 0))   # written in 1970: abandoned
    >>> [p.name for p in clean_stale_temporaries(d / "a.npz")]
    ['.md-000000-1-abcdefgh.part']
    """
    path = Path(path)
    old = _old_pattern(path.name, suffix)
    now, removed = time.time(), []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        m, host = _TEMP.match(name), _host()
        if m is None:
            m, host = old.match(name), _old_host()
        if m and _is_stale(path.parent / name, m, host, now) and _remove(path.parent / name):
            removed.append(path.parent / name)
    return removed


def _umask() -> int:
    """The process umask, read without changing it where the OS allows.

    ``os.umask`` can only be read by setting it, which races with other threads
    creating files; Linux shows it in ``/proc/self/status`` instead.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def storage_error(exc: OSError, path: Path, what: str = "write",
                  kept: str = "Nothing was changed there.") -> StorageError:
    """One clear error for an OS error while writing ``path``; ``kept`` says what is left."""
    hint = {errno.ENOSPC: "the disk is full: free some space",
            errno.EROFS: "the filesystem is read-only: choose a writable folder",
            errno.EACCES: "permission denied: choose a folder you may write to",
            errno.EPERM: "permission denied: choose a folder you may write to",
            errno.ENAMETOOLONG: "the name is too long: choose a shorter one",
            errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
            }.get(exc.errno or 0, "choose another path or fix the cause")
    err = StorageError(f"cannot {what} {str(path)!r} ({exc.strerror or exc}); {hint}. "
                       + kept)
    err.errno = exc.errno  # (strerror or filename would replace the message)
    return err


def _new_temp(parent: Path, suffix: str, folder: bool = False) -> Path:
    prefix = f".md-{_host()}-{os.getpid()}-"
    if folder:
        return Path(tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=suffix))
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=prefix, suffix=suffix)
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows the mode bits mean little
            os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    An interrupted or failing write never leaves a half-written ``path`` and never
    leaves the temporary file behind; the temporaries of earlier writes that were
    killed outright are removed first.  The file gets ``0o666`` less the umask.  An
    OS error (full disk, read-only folder) is raised as :class:`StorageError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(path, suffix)
        tmp = _new_temp(path.parent, suffix)
        _step("created")
        yield tmp
        _step("written")
        os.replace(tmp, path)
        _step("replaced")
    except BaseException as exc:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, StorageError):
            raise storage_error(exc, path) from exc
        raise


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write text or bytes to ``path`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> atomic_write(p, "{}")
    >>> p.read_text()
    '{}'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux' ``renameat2``; ``False`` where unsupported.

    Python has no binding for it (hand-written with ctypes for that reason); without
    it a swap takes two renames, and a kill between them leaves the old folder aside.
    """
    libc_name = ctypes.util.find_library("c")
    func = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None) \
        if libc_name else None
    if func is None:
        return False
    at_fdcwd = -100
    rc = func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _carry(old: Path, new: Path, keep: Callable[[str], bool]) -> None:
    """Hard-link (copy where links fail) the entries of ``old`` that ``keep`` into ``new``."""
    for dirpath, dirnames, filenames in os.walk(old):
        rel_dir = Path(dirpath).relative_to(old)
        for name in dirnames + filenames:
            src, rel = Path(dirpath) / name, (rel_dir / name).as_posix()
            if not keep(rel) or os.path.lexists(new / rel):
                continue
            dst = new / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            elif src.is_dir():
                dst.mkdir()
            else:
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]


def _two_renames(tmp: Path, root: Path) -> Path:
    """Swap without ``renameat2``: ``root`` goes aside (with a note naming it), ``tmp``
    takes its place; returns the folder holding the old one.  A kill between the two
    renames is undone by :func:`_restore_aside` on the next call in that folder."""
    aside = _new_temp(root.parent, ".d", folder=True)
    (aside / "target").write_text(root.name)
    os.replace(root, aside / "old")
    _step("aside")
    try:
        os.replace(tmp, root)
    except BaseException:
        os.replace(aside / "old", root)
        raise
    return aside


@contextmanager
def swap_folder(root: str | os.PathLike[str],
                keep: Callable[[str], bool] | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``root``; swap it into place on success.

    The entries of an existing ``root`` for which ``keep(relative_posix_path)`` is
    true (the user's own files) are carried into the new folder first, so they are
    never lost; the rest of the old folder is deleted after the swap.  A failing or
    killed build leaves ``root`` as it was; what a killed run leaves aside is removed
    by the next call.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with swap_folder(root) as tmp:
    ...     _ = (tmp / "a.txt").write_text("new")
    >>> sorted(p.name for p in root.iterdir())
    ['a.txt']
    """
    root = Path(root)
    tmp: Path | None = None
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(root)
        tmp = _new_temp(root.parent, ".d", folder=True)
        os.chmod(tmp, 0o777 & ~_umask())
        _step("created")
        yield tmp
        _step("written")
        if root.is_dir() and keep is not None:
            _carry(root, tmp, keep)
            _step("carried")
        if not root.exists():
            os.replace(tmp, root)
        elif not _exchange(tmp, root):
            tmp = _two_renames(tmp, root)
        _step("swapped")
        shutil.rmtree(tmp, ignore_errors=True)
        _step("cleaned")
    except BaseException as exc:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, StorageError):
            raise storage_error(exc, root) from exc
        raise
