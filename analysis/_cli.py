"""Small helpers shared by the four executables (argument parsing details,
error exit).  Not a public interface; see pdlib for the real work."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import pdlib  # noqa: E402


def fail(prog, msg, code=2):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def load_or_exit(prog, path):
    try:
        return pdlib.load(path)
    except (pdlib.PDError, OSError) as e:
        fail(prog, str(e))


def default_dir(path, suffix):
    stem = os.path.splitext(os.path.basename(path))[0] or "result"
    return f"{stem}_{suffix}"
