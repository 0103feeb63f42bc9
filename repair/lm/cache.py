"""What the user cache folder holds (the converted models `load` writes) and how big it is, and clearing it.

The cache is ``$XDG_CACHE_HOME/repair`` (``~/.cache/repair``); today it holds ``models/``, one folder per
converted model, and, after an interrupted conversion, hidden temp folders beside them. Clearing removes
what is in ``models/`` and nothing else; the next run with the model converts it again.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from repair.lm.base import ModelError
from repair.lm.load import default_cache_dir


@dataclass(frozen=True)
class Entry:
    """One thing in the models folder: a converted model, or what an interrupted conversion left."""

    path: Path
    size: int  # bytes, every file below it

    @property
    def leftover(self) -> bool:
        """A temp or stale folder of a conversion that did not finish (its name starts with a dot)."""
        return self.path.name.startswith(".")


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file below a folder; symlinks count as themselves, not what they point to."""
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum((Path(root) / f).lstat().st_size for f in files)
    return total


def cache_entries(folder: Path | None = None) -> list[Entry]:
    """What the models folder holds, sorted by name; empty if there is no such folder yet."""
    folder = folder or default_cache_dir()
    try:
        paths = sorted(folder.iterdir()) if folder.is_dir() else []
        return [Entry(p, size_of(p)) for p in paths]
    except OSError as exc:
        raise ModelError(f"cannot read the model cache {folder}: {exc.strerror or exc}") from exc


def clear_cache(folder: Path | None = None) -> list[Entry]:
    """Remove everything in the models folder; return what was removed (path and size)."""
    folder = folder or default_cache_dir()
    removed = []
    for entry in cache_entries(folder):
        try:
            if entry.path.is_dir() and not entry.path.is_symlink():
                shutil.rmtree(entry.path)
            else:
                entry.path.unlink()
        except OSError as exc:
            raise ModelError(f"cannot remove {entry.path}: {exc.strerror or exc}") from exc
        removed.append(entry)
    return removed


def human_size(size: int) -> str:
    """A size in MB (10^6 bytes), or in kB under one MB.

    >>> human_size(541_623_874), human_size(4096), human_size(0)
    ('541.6 MB', '4.1 kB', '0.0 kB')
    """
    return f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{size / 1e3:.1f} kB"
