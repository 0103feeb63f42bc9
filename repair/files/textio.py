"""Reading inputs and writing outputs safely: clear errors, nothing written half-way."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class InputError(Exception):
    """Bad input a user can fix; the CLI prints the message on one line and exits 2."""


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
MAX_BYTES = 200 * 1024 * 1024


def read_text(path: Path, *, what: str = "input") -> str:
    """Read a UTF-8 text file, refusing what is not one with a message that says why."""
    if not path.exists():
        raise InputError(f"{what} file not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} is a directory, not a file: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{what} file is too large ({size} bytes; the limit is {MAX_BYTES}): {path}")
        data = path.read_bytes()
    except PermissionError as exc:
        raise InputError(f"cannot read {what} file (permission denied): {path}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {path}: {exc.strerror}") from exc
    return decode(data, path, what=what)


def decode(data: bytes, path: Path | str, *, what: str = "input") -> str:
    """Decode UTF-8 bytes (a BOM is dropped), refusing empty and binary data."""
    if not data.strip():
        raise InputError(f"{what} file is empty: {path}")
    if b"\x00" in data[:65536]:
        raise InputError(f"{what} file looks binary (it holds NUL bytes), not text: {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} file is not UTF-8: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}: {path}"
        ) from exc
    return text[1:] if text.startswith("\ufeff") else text


def write_all(outputs: dict[Path, str], *, protect: tuple[Path, ...] = ()) -> None:
    """Write several files all or nothing: every temp file is written before any is renamed.

    A crash or a full disk leaves the old files (or none) in place, never a half-written one,
    and no path in ``protect`` (the inputs) is ever overwritten.
    """
    for path in outputs:
        for p in protect:
            if path.exists() and p.exists() and path.resolve() == p.resolve():
                raise InputError(f"refusing to overwrite an input file: {path}")
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"output folder does not exist: {folder}")
        if path.is_dir():
            raise InputError(f"output path is a directory: {path}")
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in outputs.items():
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            except OSError as exc:
                raise InputError(f"cannot write output file {path}: {exc.strerror}") from exc
            temps.append((tmp, path))
            # mkstemp makes the file private; outputs get the usual permissions, as open() would give them
            os.fchmod(fd, 0o666 & ~_UMASK)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write output files: {exc.strerror}") from exc
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, text: str, *, protect: tuple[Path, ...] = ()) -> None:
    """Write one file through a temp file and a rename."""
    write_all({path: text}, protect=protect)
