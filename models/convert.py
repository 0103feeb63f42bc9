"""Convert the embedded SmolLM2 GGUF into the float32 Hugging Face folder that `repair` loads in ~1 s.

`repair` does this by itself on its first run; this script does it ahead of time (for an
image build or a shared cache) or into another folder:

    python models/convert.py                      # into the user cache (XDG_CACHE_HOME honoured)
    python models/convert.py --cache-dir /opt/repair-cache --force

The folder it prints can also be given to `repair fix --model FOLDER`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from repair.lm import ModelError
from repair.lm.load import convert_to_cache, default_cache_dir


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, convert (unless a valid copy exists), print the folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help=f"folder for the converted model (default: {default_cache_dir()})"
    )
    parser.add_argument("--force", action="store_true", help="convert again even if a valid copy exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        folder = convert_to_cache(args.cache_dir, force=args.force)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the converted model: {exc}", file=sys.stderr)
        return 2
    print(f"model folder ready after {time.perf_counter() - started:.1f} s: {folder}", file=sys.stderr)
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
