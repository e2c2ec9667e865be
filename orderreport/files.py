"""Files written whole or not at all, with the mode they need whatever the umask.

One helper for every file orderreport replaces: the metrics textfile (0644, node_exporter
reads it as another user) and the embedded server's private files (0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data`, file mode `mode`: a reader sees the old file or the new
    one, never a mix, and a crash never leaves an empty file behind.

    The data goes to a new temporary file next to `path` (created exclusively, so never
    through a symlink planted there; its name starts with a dot and ends in .tmp, so
    node_exporter never reads it), which gets its mode before it is renamed over `path`
    (a chmod after the rename would leave a moment with the umask's mode), and is synced
    to disk first. On failure the temporary file is removed and `path` left as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
