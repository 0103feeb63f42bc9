"""Reading inputs: the one place a file the tool is given is opened, checked and decoded.

`open_input` opens a path for reading and refuses, with one line, what is not a regular file (a folder,
a FIFO that would block, a device like /dev/zero that never ends), a name the file system cannot hold,
a symlink loop, a file it may not read. `read_bytes` reads one whole within a size limit; `read_text`
decodes it as UTF-8 text. Every reader of the tool (inputs, references, edit lists, decisions files,
a batch's corpus and its own state) goes through `open_input`.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO


class InputError(Exception):
    """Bad input a user can fix; the CLI prints the message on one line and exits 2."""


MAX_BYTES = 200 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
# UTF-16 without a BOM is recognised when at least this share of the high bytes is NUL (Latin text)
WIDE_NUL_SHARE = 0.3
CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # control characters no text holds
# what a file that is not a regular one is, as a message names it
FILE_TYPES = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_type(mode: int) -> str:
    """What a file of this ``st_mode`` is, for a message: "a FIFO (named pipe)", "a character device", ...

    >>> file_type(stat.S_IFIFO), file_type(stat.S_IFREG)
    ('a FIFO (named pipe)', 'a regular file')
    """
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((name for test, name in FILE_TYPES if test(mode)), "not a regular file")


def path_problem(exc: OSError, path: Path | str, what: str) -> str:
    """Why ``path`` could not be opened, in one line a user can act on.

    >>> path_problem(OSError(errno.ENAMETOOLONG, "File name too long"), "x.txt", "input")
    'input file name is too long for the file system: x.txt'
    """
    code = exc.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        return f"{what} file not found: {path}"
    if code == errno.ELOOP:
        return f"{what} file is a symlink loop (a link that leads back to itself): {path}"
    if code == errno.ENAMETOOLONG:
        return f"{what} file name is too long for the file system: {path}"
    if code in (errno.EACCES, errno.EPERM):
        return f"cannot read {what} file (permission denied): {path}"
    return f"cannot read {what} file: {path}: {exc.strerror}"


def open_input(path: Path, *, what: str = "input") -> BinaryIO:
    """Open ``path`` to read it, refusing with one line whatever is not a regular file.

    Opened without blocking and checked on the open file (not by name first, then opened): a FIFO
    cannot make the read wait for a writer, and nothing can be swapped in between check and read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(path_problem(exc, path, what)) from exc
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputError(path_problem(exc, path, what)) from exc
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError(f"{what} is a directory, not a file: {path}")
        raise InputError(f"{what} is {file_type(mode)}, not a regular file: {path}")
    return os.fdopen(fd, "rb")


def read_bytes(path: Path, *, what: str = "input", limit: int | None = MAX_BYTES) -> bytes:
    """The whole of a regular file, refusing one over ``limit`` bytes (None: no limit)."""
    with open_input(path, what=what) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            if limit is not None and size > limit:
                raise InputError(f"{what} file is too large ({size} bytes; the limit is {limit}): {path}")
            data = fh.read() if limit is None else fh.read(limit + 1)
        except OSError as exc:
            raise InputError(path_problem(exc, path, what)) from exc
    if limit is not None and len(data) > limit:  # it grew while being read
        raise InputError(f"{what} file is too large (over {limit} bytes): {path}")
    return data


def read_text(path: Path, *, what: str = "input") -> str:
    """Read a UTF-8 text file, refusing what is not one with a message that says why."""
    return decode(read_bytes(path, what=what), path, what=what)


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
    if b"\x00" in data:  # anywhere, as the streamed reader finds it
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
    """The UTF-16 or UTF-32 encoding the first bytes of a file show (a BOM, or the NUL high bytes of
    mostly-Latin UTF-16 text), or "".

    >>> wide_encoding(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")), wide_encoding("hello".encode("utf-16-be"))
    ('UTF-16', 'UTF-16BE')
    >>> wide_encoding("naïve – “quoted”".encode("utf-16-le"))
    'UTF-16LE'
    >>> wide_encoding(b"plain text"), wide_encoding(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00")
    ('', '')
    """
    for bom, name in WIDE_BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 8 and len(sample) % 2 == 0:
        # Windows tools often write UTF-16 without a BOM: the high byte of every Latin letter is NUL, and no
        # character is NUL; the text around (dashes, quotes, accents) must read as UTF-16 too, or it is binary
        units = {sample[i : i + 2] for i in range(0, len(sample), 2)}
        for name, high in (("UTF-16LE", sample[1::2]), ("UTF-16BE", sample[0::2])):
            if b"\x00\x00" in units or high.count(0) < len(high) * WIDE_NUL_SHARE:
                continue
            try:  # incrementally: the sample may end inside a surrogate pair
                text = codecs.getincrementaldecoder(name.replace("LE", "-LE").replace("BE", "-BE"))().decode(sample)
            except UnicodeDecodeError:
                continue
            if not CONTROL_RE.search(text):
                return name
    return ""


def wide_message(encoding: str, path: Path | str, what: str) -> str:
    """Why a UTF-16/32 file is refused, and the command that converts it."""
    return (
        f"{what} file is {encoding}, not UTF-8: convert it first, e.g."
        f" `iconv -f {encoding} -t UTF-8 {path} > converted.txt`: {path}"
    )


def parse_json(text: str | bytes, name: str) -> Any:
    """Parse a JSON document, refusing with one line what is not JSON, nested too deep, or NaN / Infinity.

    >>> parse_json('{"a": [1]}', "x")
    {'a': [1]}
    >>> parse_json("[" * 100_000, "x")
    Traceback (most recent call last):
    ...
    repair.files.textio.InputError: x is not valid JSON: nested too deep
    >>> parse_json('{"confidence": NaN}', "x")
    Traceback (most recent call last):
    ...
    repair.files.textio.InputError: x is not valid JSON: NaN is not a number JSON allows
    """
    try:
        return json.loads(
            text.removeprefix(UTF8_BOM) if isinstance(text, bytes) else text.removeprefix("\ufeff"),
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8: invalid byte at byte offset {exc.start}") from exc
    except RecursionError:
        raise InputError(f"{name} is not valid JSON: nested too deep") from None
    except ValueError as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InputError(f"{name} is not valid JSON: {msg}") from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path: Path, *, what: str) -> Any:
    """A JSON file (a regular file within the size limit, parsed as `parse_json` does)."""
    return parse_json(read_bytes(path, what=what), f"{what} {path}")
