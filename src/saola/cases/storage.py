"""Where attachment bytes live: a small :class:`FileStore` Protocol and a filesystem implementation.

Files are content-addressed (the key is the SHA-256 of the bytes), so storing the same file
twice keeps one copy. The filesystem store keeps them under ``<data_dir>/files``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...


class FilesystemStore:
    """Files under ``root/ab/<sha256>``, written atomically (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def filesystem_store(data_dir: Path) -> FilesystemStore:
    return FilesystemStore(data_dir / "files")
