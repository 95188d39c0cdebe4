"""Atomic file writes, shared by the data cache, models, tuning and the study report.

A write goes to a temporary file beside the target, named
``.<target>.<host>-<pid>.<random>.part``, and is renamed onto the target when done.
Two things the standard library's :func:`tempfile.mkstemp` does not do are added by
hand:

- the finished file gets the mode a plain ``open(path, "w")`` would give it
  (``0o666`` less the umask), not mkstemp's private ``0o600``;
- a write killed outright (SIGKILL, power loss) cannot remove its temporary, so the
  next write of the same target removes the ones left over: those whose writer
  process, on this host, no longer runs, and any older than :data:`STALE_AFTER`
  seconds (a writer on another host sharing the folder, or an old-style name that
  carries no process id).  Only files matching our own name pattern for that one
  target are touched.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["STALE_AFTER", "atomic_path", "atomic_write"]

#: Seconds after which any temporary of a target is considered abandoned.
STALE_AFTER = 15 * 60
#: mkstemp's random part: 8 characters of ``tempfile._RandomNameSequence``.
_RANDOM = r"[a-z0-9_]{8}"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _temp_pattern(name: str, suffix: str) -> re.Pattern[str]:
    """Our temporaries of target ``name``: new style (host and pid) or old style."""
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


def _is_stale(path: Path, match: re.Match[str], now: float) -> bool:
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER:
        return True
    pid = match.group("pid")
    return pid is not None and match.group("host") == _host() and not _pid_alive(int(pid))


def clean_stale_temporaries(path: str | os.PathLike[str], suffix: str = ".part") -> list[Path]:
    """Remove abandoned temporaries of ``path`` (see the module notes); return them.

    Examples
    --------
    >>> import os, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> old = d / ".a.npz.otherhost-1.abcdefgh.part"
    >>> _ = old.write_bytes(b"")
    >>> os.utime(old, (0, 0))   # written in 1970: abandoned
    >>> [p.name for p in clean_stale_temporaries(d / "a.npz")]
    ['.a.npz.otherhost-1.abcdefgh.part']
    """
    path = Path(path)
    pattern = _temp_pattern(path.name, suffix)
    now, removed = time.time(), []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.match(name)
        if m and _is_stale(path.parent / name, m, now):
            try:
                os.unlink(path.parent / name)
                removed.append(path.parent / name)
            except OSError:  # another process cleaned it first, or no permission
                pass
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


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    An interrupted or failing write never leaves a half-written ``path`` and never
    leaves the temporary file behind; the temporaries of earlier writes that were
    killed outright are removed first.  The file gets ``0o666`` less the umask.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path, suffix)
    prefix = f".{path.name}.{_host()}-{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows the mode bits mean little
            os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
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
