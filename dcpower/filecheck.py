"""Guards of every path the product reads or writes (no parsing here: :mod:`dcpower.tables`).

Inputs: :func:`check_input_file` — the path is given, not too long, exists, is a regular file
(not a folder, FIFO, device or socket: reading a FIFO would hang, a folder is no table).

Outputs: :func:`check_output_target` — the one set of rules every writer applies before it
writes: the name is given and fits the file system, an existing target is a regular file, it
is none of the run's inputs (symlinks and hard links seen through) and it lies in no shipped
data folder (all of ``resources_data/``, whatever ``--data-dir`` says, plus any extra
protected folder). Every failure is an :class:`~dcpower.errors.InputError` (exit 2) naming
the option or field and the path, raised before anything is written.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from dcpower import data_root
from dcpower.errors import InputError

#: the shipped data of the product (price, load, event, tariff and site files); never written
SHIPPED_DATA_DIR = data_root.SHIPPED_DATA_DIR


class InputFileError(InputError):
    """An input file cannot be used; the message names the field, the file and the fix."""


class OutputPathError(InputError):
    """An output cannot be written where asked; the message names the option and the path."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for the file system"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "not found"
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or "cannot be opened"


def check_input_file(
    path: str | Path | None, field: str, error: type[InputError] = InputFileError
) -> Path:
    """``path`` as a Path when it names an existing regular file (links followed).

    ``field`` names the case field or option in messages (e.g. ``load.profile_file``);
    ``error`` is the InputError subclass raised (callers keep their own error kinds).
    """
    if path is None or str(path) == "":
        raise error(f"{field}: no file given; fix: give the path of the file")
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        fix = "shorten it" if exc.errno == errno.ENAMETOOLONG else "check the path"
        raise error(f"{field}: {p}: {_os_reason(exc)}; fix: {fix}") from None
    except ValueError:  # an embedded NUL byte
        raise error(f"{field}: the path contains a NUL byte; fix: check the path") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{field}: {p} is {_kind(st.st_mode)}, not a file; fix: give the data file")
    if not os.access(p, os.R_OK):
        raise error(f"{field}: {p}: permission denied; fix: make the file readable")
    return p


def is_within(path: Path, folder: Path) -> bool:
    """Whether ``path`` (links resolved) lies in ``folder`` (links resolved)."""
    try:
        p, d = path.resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return False
    return p == d or d in p.parents


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: same inode (hard/symbolic links) or same path."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def check_output_name(path: str | Path | None, label: str) -> Path:
    """An output path that is given (not empty) and has no NUL byte."""
    if path is None or str(path).strip() == "":
        raise OutputPathError(f"{label}: no path given (empty); fix: give the output path")
    if "\x00" in str(path):
        raise OutputPathError(f"{label}: the path contains a NUL byte; fix: choose another path")
    return Path(path)


def check_output_target(
    path: str | Path,
    label: str,
    inputs: Iterable[tuple[str, Path]] = (),
    protected_dirs: Iterable[Path] = (),
) -> Path:
    """Refuse an output target that is not a regular file, is an input, or is shipped data.

    ``inputs``: (field, path) of every file the run reads; ``protected_dirs``: folders no
    output may enter besides :data:`SHIPPED_DATA_DIR` (e.g. ``--data-dir``).
    """
    target = check_output_name(path, label)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise OutputPathError(
                f"{label}: {target}: the path is too long for the file system; fix: choose a "
                "shorter path"
            ) from None
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputPathError(
            f"{label}: {target} is {_kind(st.st_mode)}; outputs replace only regular files; "
            "fix: choose another output path"
        )
    for field, src in inputs:
        if same_file(target, Path(src)):
            raise OutputPathError(
                f"{label}: {target} is an input of this run ({field}: {src}); writing it would "
                "destroy the input; fix: choose another output path"
            )
    for folder in (SHIPPED_DATA_DIR, *protected_dirs):
        if is_within(target, Path(folder)):
            raise OutputPathError(
                f"{label}: {target} lies in the market data folder {Path(folder).resolve()} "
                "(shipped and market data are never written); fix: write outputs elsewhere "
                "(e.g. results/)"
            )
    return target


def check_cache_target(path: str | Path, label: str = "fetch cache") -> Path:
    """A file the market-data cache may write: a new file, or a regular file outside the
    shipped data (the cache adds files to a data folder; it never replaces shipped data, a
    device or a FIFO)."""
    target = check_output_name(path, label)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputPathError(f"{label}: {target}: {_os_reason(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputPathError(
            f"{label}: {target} is {_kind(st.st_mode)}; the cache replaces only regular files"
        )
    if is_within(target, SHIPPED_DATA_DIR):
        raise OutputPathError(
            f"{label}: {target} is shipped data and is never replaced; fix: remove the "
            "downloaded copy elsewhere or point --data-dir at a cache folder"
        )
    return target
