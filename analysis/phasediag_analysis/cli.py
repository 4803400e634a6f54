"""Small helpers shared by the four commands (error exit, default output
directory).  Not a public interface; the real work is in the other
modules."""
import os
import sys

from .io import PDError
from .result import load


def fail(prog, msg, code=2):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def load_or_exit(prog, path):
    try:
        return load(path)
    except (PDError, OSError) as e:
        fail(prog, str(e))


def default_dir(path, suffix):
    stem = os.path.splitext(os.path.basename(path))[0] or "result"
    return f"{stem}_{suffix}"
