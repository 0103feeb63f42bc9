"""Reading inputs and writing outputs safely: clear errors, nothing written half-way."""

from __future__ import annotations

import codecs
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
UTF8_BOM = b"\xef\xbb\xbf"


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
    """Decode UTF-8 bytes, refusing empty and binary data.

    A BOM stays in the text, so that the output keeps it and offsets count it: with no
    edit applied the output is the input byte for byte.
    """
    wide = wide_encoding(data)
    if wide:
        raise InputError(wide_message(wide, path, what))
    if not data.removeprefix(UTF8_BOM).strip():
        raise InputError(blank_message(data.removeprefix(UTF8_BOM), path, what))
    if b"\x00" in data[:65536]:
        raise InputError(f"{what} file looks binary (it holds NUL bytes), not text: {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} file is not UTF-8: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}: {path}"
        ) from exc
    return text


# longest first: UTF-32-LE's BOM begins with UTF-16-LE's; named as iconv reads them (the BOM tells the byte order)
WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def blank_message(data: bytes | str, path: Path | str, what: str) -> str:
    """Why a file with no text is refused: nothing at all, or only whitespace."""
    return f"{what} file holds only whitespace: {path}" if data else f"{what} file is empty: {path}"


def wide_encoding(head: bytes) -> str:
    """The UTF-16 or UTF-32 encoding the first bytes of a file show (a BOM, or ASCII text's NUL halves), or "".

    >>> wide_encoding(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")), wide_encoding("hello".encode("utf-16-be"))
    ('UTF-16', 'UTF-16BE')
    >>> wide_encoding(b"plain text"), wide_encoding(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00")
    ('', '')
    """
    for bom, name in WIDE_BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 8 and len(sample) % 2 == 0:
        # Windows tools often write UTF-16 without a BOM: every other byte of ASCII text is NUL
        for name, nuls, chars in (("UTF-16LE", sample[1::2], sample[0::2]), ("UTF-16BE", sample[0::2], sample[1::2])):
            if not nuls.strip(b"\x00") and b"\x00" not in chars:
                return name
    return ""


def wide_message(encoding: str, path: Path | str, what: str) -> str:
    """Why a UTF-16/32 file is refused, and the command that converts it."""
    return (
        f"{what} file is {encoding}, not UTF-8: convert it first, e.g."
        f" `iconv -f {encoding} -t UTF-8 {path} > converted.txt`: {path}"
    )


def check_writable(path: Path) -> None:
    """Create a file beside ``path`` and remove it, so that an unwritable output is found before the work.

    Trying is the only test that sees a read-only folder or mount, a full disk of inodes,
    or permissions for whoever runs it (`os.access` answers yes to root).
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write output file {path}: {exc.strerror}") from exc
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


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
