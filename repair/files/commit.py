"""Writing outputs: the one place where the files of a run are checked and committed, all or nothing.

Every command writes through here: `write_all` (texts in memory), `staged` (files written piece by piece,
as a streamed fix writes them), `append_line` (a batch's JSONL, a line at a time) and `claim_folder` (a
batch's output folder, held by one run at a time).

What `staged` and `write_all` promise for the outputs of one call:

- **Checked before anything is written** (`check_outputs`): each output is absent or a regular file (a
  device, a FIFO, a socket or a folder is refused, never replaced), in an existing folder, with a name the
  file system can hold, and writable; none is the same file as an input (by any name: a symlink, a hard
  link, ``..``) or as another output.
- **All or nothing.** Each new content goes to a temp file in its target's own folder; only when every one
  is written whole are they renamed over their targets. Before the first rename, every target that exists
  is hard-linked (where links are refused: copied) to a backup beside it, so the old content stays in place
  meanwhile. If a rename fails (an immutable file, a full disk, Ctrl-C or SIGTERM), the targets already
  renamed get their old content back from the backups and those that did not exist are removed: the old
  set stays, and the error is one line (`InputError`). Backups and temp files are removed either way.
- **The usual permissions**: 0666 less the umask, as ``open()`` gives, whichever path wrote the file.

What it does not promise: surviving a crash of the machine or a SIGKILL in the instant between two renames
(nothing is fsynced and there is no journal). Such a kill can leave the first outputs new and the others
old, and a backup (``.NAME.*.bak``) or a temp file (``.NAME.*.tmp``) beside them.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from repair.files.textio import InputError, file_type


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
# bytes of an output's name kept in the names of its temp file and backup: those must fit where the name did
NAME_KEEP = 80
# how outputs are encoded: UTF-8, and a file name that is not (a lone surrogate, from undecodable bytes) written
# as its escape, which inside a JSON string is the escape JSON reads back as that character
TEXT: dict[str, Any] = {"encoding": "utf-8", "errors": "backslashreplace", "newline": ""}


def encoded(text: str) -> bytes:
    """``text`` as an output holds it (see `TEXT`).

    >>> encoded('{"input": "caf\\udcff.txt"}')
    b'{"input": "caf\\\\udcff.txt"}'
    """
    return text.encode("utf-8", "backslashreplace")


def _hidden_name(path: Path) -> str:
    """The start of a temp or backup name beside ``path``: a dot and (the head of) the output's name."""
    return "." + path.name.encode("utf-8", "surrogateescape")[:NAME_KEEP].decode("utf-8", "ignore") + "."


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: by identity when both exist (links, hard links), else by resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def output_problem(exc: OSError, path: Path) -> str:
    """Why an output cannot be written, in one line."""
    if exc.errno == errno.ENAMETOOLONG:
        return f"output file name is too long for the file system: {path}"
    if exc.errno == errno.ELOOP:
        return f"output path is a symlink loop (a link that leads back to itself): {path}"
    if exc.errno == errno.ENOTDIR:
        return f"output folder does not exist: {path.parent}"
    return f"cannot write output file {path}: {exc.strerror}"


def check_output(path: Path, *, protect: Sequence[Path] = (), others: Sequence[Path] = ()) -> None:
    """Refuse one output that cannot be written, or would replace an input, another output or a special file."""
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None  # new (or a dangling link, which the rename replaces)
    except OSError as exc:
        raise InputError(output_problem(exc, path)) from exc
    if any(mode is not None and os.path.exists(p) and same_file(path, p) for p in protect):
        raise InputError(f"refusing to overwrite an input file: {path}")
    for other in others:
        if same_file(path, other):
            raise InputError(f"two outputs are the same file: {other} and {path}")
    if not os.path.isdir(path.parent):
        raise InputError(f"output folder does not exist: {path.parent}")
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"output path is a directory: {path}")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"output is {file_type(mode)}, not a regular file (it would be replaced): {path}")
    check_writable(path)


def check_outputs(paths: Sequence[Path], *, protect: Sequence[Path] = ()) -> None:
    """Refuse outputs that cannot be written or would overwrite what they must not, before any work is done."""
    for i, path in enumerate(paths):
        check_output(path, protect=protect, others=paths[:i])


def check_writable(path: Path) -> None:
    """Create a file beside ``path`` and remove it, so that an unwritable output is found before the work.

    Trying is the only test that sees a read-only folder or mount, a full disk of inodes,
    or permissions for whoever runs it (`os.access` answers yes to root).
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=_hidden_name(path), suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise InputError(output_problem(exc, path)) from exc
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def _temp_for(path: Path) -> tuple[int, Path]:
    """A new temp file beside ``path``, with the permissions ``open()`` would give the output."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=_hidden_name(path), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(output_problem(exc, path)) from exc
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes the file private
    return fd, Path(tmp)


@contextmanager
def staged(
    paths: Sequence[Path], *, protect: Sequence[Path] = (), binary: bool = False
) -> Iterator[tuple[IO[Any], ...]]:
    """Open a temp file for each output; leaving the block normally commits them all (see the module's
    docstring), leaving it by an exception commits none and leaves no temp file."""
    check_outputs(paths, protect=protect)
    temps: list[Path] = []
    handles: list[IO[Any]] = []
    try:
        for path in paths:
            fd, tmp = _temp_for(path)
            temps.append(tmp)
            handles.append(os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", **TEXT))
        yield tuple(handles)
        for fh in handles:
            fh.close()  # flushed here: a full disk may show only now
        _commit(list(zip(temps, paths, strict=True)))
    except OSError as exc:
        raise InputError(f"cannot write output files: {exc.strerror}") from exc
    finally:
        for fh in handles:
            with suppress(OSError):  # closed already, or its flush failed: the file goes anyway
                fh.close()
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def write_all(outputs: Mapping[Path, str | bytes], *, protect: Sequence[Path] = ()) -> None:
    """Write several files all or nothing (see the module's docstring); no path in ``protect`` is ever replaced."""
    paths = list(outputs)
    with staged(paths, protect=protect, binary=True) as handles:
        for fh, path in zip(handles, paths, strict=True):
            data = outputs[path]
            fh.write(data if isinstance(data, bytes) else encoded(data))


def write_atomic(path: Path, text: str | bytes, *, protect: Sequence[Path] = ()) -> None:
    """Write one file through a temp file and a rename."""
    write_all({path: text}, protect=protect)


def _backup(path: Path) -> Path | None:
    """A backup of ``path`` beside it (a hard link, else a copy), or None when there is nothing to keep."""
    if not os.path.lexists(path):
        return None
    while True:
        backup = path.with_name(f"{_hidden_name(path)}{secrets.token_hex(4)}.bak")
        try:
            os.link(path, backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue  # a name taken by chance: draw another
        except OSError:
            break  # no hard links here (or not to this file): copy it
    shutil.copy2(path, backup, follow_symlinks=False)
    return backup


def _commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each temp over its target: all, or (the old ones restored from backups) none."""
    backups: dict[Path, Path | None] = {}
    renamed: list[Path] = []
    target = pairs[0][1] if pairs else Path()
    try:
        for _, target in pairs:
            backups[target] = _backup(target)
        for tmp, target in pairs:
            os.replace(tmp, target)
            renamed.append(target)
    except BaseException as exc:
        stuck = _roll_back(renamed, backups)
        if not isinstance(exc, OSError):
            raise
        kept = "" if renamed and stuck else "; the outputs were left as they were"
        raise InputError(f"cannot write output file {target}: {exc.strerror}{kept}{stuck}") from exc
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


def _roll_back(renamed: list[Path], backups: dict[Path, Path | None]) -> str:
    """Put back the old content of the targets already renamed; "" if all went back, else what did not."""
    stuck = []
    for target in reversed(renamed):
        backup = backups[target]
        try:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
                backups[target] = None  # used up: nothing left to remove
        except OSError:
            stuck.append(f"{target} (its old content is in {backup})" if backup else str(target))
            if backup is not None:
                backups[target] = None  # keep it: it is the only copy of the old content
    return f"; could not put back {', '.join(stuck)}" if stuck else ""


def append_line(path: Path, line: bytes) -> None:
    """Append one whole line to a regular file (created if absent) and flush it to disk.

    One write of the whole line: an interruption leaves at most a partial last line, which a reader cuts off.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        raise InputError(output_problem(exc, path)) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"output is {file_type(mode)}, not a regular file: {path}")
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise InputError(f"cannot write output file {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)


@contextmanager
def claim_folder(folder: Path) -> Iterator[Path]:
    """Create ``folder`` if it is missing and hold it for this run: another run that claims it meanwhile is refused.

    The hold is a lock on the folder (``flock``), which ends with the process however it ends, a SIGKILL
    included. A run refused inside the block leaves no folder it created, if it wrote nothing there.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError(f"--out is a file, not a folder: {folder}")
    missing = [p for p in folder.parents if not os.path.exists(p)]
    try:
        folder.mkdir(parents=True)
        made = [folder, *missing]  # the deepest first
    except FileExistsError:
        made = []
    except OSError as exc:
        raise InputError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
    with _locked(folder):
        try:
            yield folder
        except BaseException:
            for p in made:  # a folder that holds anything stays
                try:
                    p.rmdir()
                except OSError:
                    break
            raise


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not on a POSIX system: no lock
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot open the output folder {folder}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another run is writing to {folder}: wait for it to end, or give another --out") from None
        except OSError:
            pass  # a file system without locks (some network mounts): go on unlocked, as before
        yield
    finally:
        os.close(fd)
