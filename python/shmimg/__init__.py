"""shmimg: share images and video frames between processes.

The Python face of libshmimg (<shmimg.h>), through ctypes: no compiled
extension. Frames are NumPy arrays of shape (height, width, 4), dtype
uint8, bytes R, G, B, A.

    import shmimg
    shmimg.publish("cam", frame)            # (H, W, 4) or (H, W, 3) uint8
    img = shmimg.pull("cam")                # a copy, (H, W, 4) uint8
    with shmimg.Reader("cam") as r:
        for img in r.frames(timeout=1.0):   # every new frame, live
            ...

The library is found through $SHMIMG_LIBRARY (a path to libshmimg.so.1),
else where the install or the build tree put it (_paths.py), else by the
dynamic linker's search. Errors raise a subclass of shmimg.Error carrying
the library's message.
"""

from ._lib import (
    Error, NoSegment, Empty, Incomplete, Corrupt, Timeout, PermissionDenied,
    InvalidKey, TooBig, NoSpace, Gone, Lapped,
    Publisher, Reader, publish, pull, info, list, remove, version,
)

__all__ = [
    "Error", "NoSegment", "Empty", "Incomplete", "Corrupt", "Timeout",
    "PermissionDenied", "InvalidKey", "TooBig", "NoSpace", "Gone", "Lapped",
    "Publisher", "Reader", "publish", "pull", "info", "list", "remove",
    "version",
]
__version__ = version()
