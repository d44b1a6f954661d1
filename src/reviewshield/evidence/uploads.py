"""The one upload handler: every file goes to disk as it arrives, hashed and size-capped on the way.

Django's default keeps files under 2.5 MB in memory and reads each file again to hash it. Here the
SHA-256 is computed from the chunks already passing through, so a 500 MB video is read once, and
anything past the largest limit any evidence kind allows is not written at all (the file is marked
`rs_oversize` and refused by the intake with a clear message, instead of a dropped connection).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from reviewshield.evidence.kinds import kinds_with_limits

# hashlib releases the GIL on large buffers: hashing one chunk on this thread while the request
# thread writes the next to disk makes an upload cost about its disk write, not write plus hash.
_HASHER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rs-upload-hash")

# The temporary file's blocks are reserved this far ahead of the bytes written: a filesystem that
# allocates a large extent at once takes the writes into the page cache about twice as fast as one
# that allocates each page as it is dirtied. What is reserved past the end is cut off when the file
# completes.
_RESERVE_STEP = 64 << 20


def largest_upload_bytes() -> int:
    return max(k.max_bytes for k in kinds_with_limits(settings.REVIEWSHIELD_VIDEO_MAX_MB << 20).values())


class HashingUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 1 << 20  # fewer, larger writes and hash updates than the default 64 KB

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()
        self._size = 0
        self._limit = largest_upload_bytes()
        self._oversize = False
        self._hashing: Future[None] | None = None
        self._reserved = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._size > self._limit:
            self._oversize = True  # keep reading the request, stop keeping the bytes
            return None
        if self._hashing is not None:
            self._hashing.result()  # chunks are hashed in order, one at a time
        self._hashing = _HASHER.submit(self._digest.update, raw_data)
        if self._size > self._reserved:
            self._reserve()
        self.file.write(raw_data)
        return None

    def _reserve(self) -> None:
        self._reserved = min(self._size + _RESERVE_STEP, self._limit)
        try:
            os.posix_fallocate(self.file.fileno(), 0, self._reserved)
        except OSError:  # a filesystem without fallocate still takes plain writes
            self._reserved = self._limit

    def file_complete(self, file_size: int) -> Any:
        if self._hashing is not None:
            self._hashing.result()
            self._hashing = None
        if self._reserved:
            self.file.flush()
            os.ftruncate(self.file.fileno(), self.file.tell())
        uploaded = super().file_complete(self._size if not self._oversize else self.file.tell())
        uploaded.rs_sha256 = None if self._oversize else self._digest.hexdigest()
        uploaded.rs_size = self._size
        uploaded.rs_oversize = self._oversize
        return uploaded
