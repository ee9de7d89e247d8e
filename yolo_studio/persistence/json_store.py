"""A JSON file shared between processes: locked, written atomically, never silently reset.

Every write holds a ``filelock.FileLock`` on ``<file>.lock`` (works across processes), writes a
temporary file in the same folder, flushes and ``os.fsync``s it, then ``os.replace``s it over the
target, so a reader sees either the old or the new content and a process killed mid-write leaves
the previous file intact. A file that cannot be parsed is renamed aside to
``<file>.corrupt-<UTC timestamp>`` and reported; it is never replaced by an empty one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import filelock

from ..errors import RegistryError

#: Seconds to wait for another process holding the lock before giving up.
LOCK_TIMEOUT_S = 30.0


def describe_os_error(err: OSError) -> str:
    """A user-facing sentence for an ``OSError``; "disk full" is said in so many words."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full (no space left on device); free some space and try again"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied or read-only storage ({err.strerror})"
    return f"{err.strerror or err} ({type(err).__name__}, errno {err.errno})"


def fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename inside it survives a power loss (no-op where unsupported)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8) all at once: a temp file beside it,
    renamed over it. With ``durable`` the data and the rename are fsynced (survive a power
    cut). On any error the old content is unchanged and the temp file is removed.

    Raises:
        OSError: from writing or renaming.
    """
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


class JsonFile:
    """A JSON document in one file, read and updated under a cross-process lock.

    Args:
        path: The JSON file. Its folder is created on the first write.
        default: Called to build the content when the file does not exist yet.
        validate: Called with the parsed content; returns a message when the content is not a
            valid document (the file is then treated as corrupt), else None.
        what: How messages name the file ("model registry").
    """

    def __init__(self, path: Path, default: Callable[[], dict[str, Any]],
                 validate: Callable[[Any], str | None] = lambda _: None,
                 what: str = "file") -> None:
        self.path = Path(path)
        self._default = default
        self._validate = validate
        self._what = what
        self._lock = filelock.FileLock(self.lock_path, timeout=LOCK_TIMEOUT_S)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant for the same object and thread).

        Raises:
            RegistryError: another process held the lock for over ``LOCK_TIMEOUT_S`` seconds, or
                the lock file cannot be created.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except filelock.Timeout as err:
            raise RegistryError(
                f"The {self._what} {self.path} is locked by another process for over "
                f"{LOCK_TIMEOUT_S:.0f} s; try again, or remove {self.lock_path} if no studio "
                "process is running.") from err
        except OSError as err:
            raise RegistryError(f"Cannot lock the {self._what} {self.path}: "
                                f"{describe_os_error(err)}.") from err
        try:
            yield
        finally:
            self._lock.release()

    def read(self) -> dict[str, Any]:
        """Return the parsed content, or ``default()`` when the file does not exist.

        Raises:
            RegistryError: the file is corrupt (it has been renamed aside; the message says where)
                or cannot be read.
        """
        content = self._try_read()
        if isinstance(content, dict):
            return content
        with self.locked():  # one process sets the file aside; the others then see it gone
            content = self._try_read()
            if isinstance(content, dict):
                return content
            raise RegistryError(self._set_aside(content))

    def _try_read(self) -> dict[str, Any] | str:
        """The content, or a string saying why it is corrupt."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._default()
        except OSError as err:
            raise RegistryError(f"Cannot read the {self._what} {self.path}: "
                                f"{describe_os_error(err)}.") from err
        except UnicodeDecodeError:
            return "it is not UTF-8 text"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            return f"it is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
        problem = self._validate(data)
        return problem if problem else data

    def _set_aside(self, problem: str) -> str:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as err:
            return (f"The {self._what} {self.path} is corrupt ({problem}) and could not be set "
                    f"aside: {describe_os_error(err)}. Move it away by hand.")
        return (f"The {self._what} {self.path} was corrupt ({problem}). It was renamed to "
                f"{aside.name} so nothing is lost; the {self._what} now starts empty. Restore "
                "it from that file or a backup if you can.")

    def write(self, data: dict[str, Any]) -> None:
        """Replace the content atomically. Call it while holding ``locked()``.

        Raises:
            RegistryError: the file cannot be written (disk full, permissions); the previous
                content is unchanged.
        """
        self._remove_stale_temps()
        try:
            write_text_atomic(self.path, json.dumps(data, indent=1, ensure_ascii=False,
                                                    default=str))
        except OSError as err:
            raise RegistryError(f"Cannot write the {self._what} {self.path}: "
                                f"{describe_os_error(err)}. It is unchanged.") from err

    def _remove_stale_temps(self) -> None:
        """Delete temp files left by a writer that was killed (we hold the lock: none is live)."""
        for stale in self.path.parent.glob(self.path.name + ".*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """Lock, read, let the caller change the dict, and write it back if no exception occurred.

        Raises:
            RegistryError: as for ``read()`` and ``write()``.
        """
        with self.locked():
            data = self.read()
            yield data
            self.write(data)
