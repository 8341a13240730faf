"""ctypes bindings of libshmimg (<shmimg.h>) and the Pythonic layer over them."""

import builtins
import ctypes
import json
import os

import numpy as np

_SONAME = "libshmimg.so.1"

# Codes of <shmimg.h> (enum shmimg_error).
OK = 0
ERR_NO_SEGMENT = -10001
ERR_EMPTY = -10002
ERR_INCOMPLETE = -10003
ERR_CORRUPT = -10004
ERR_VERSION = -10005
ERR_PERMISSION = -10006
ERR_NOT_FILE = -10007
ERR_KEY = -10008
ERR_TOO_BIG = -10010
ERR_NO_SPACE = -10011
ERR_TIMEOUT = -10012
ERR_ARGUMENT = -10015
ERR_SMALL_BUFFER = -10016
ERR_GONE = -10018
ERR_LAPPED = -10019

PIXEL_RGBA8, PIXEL_BGRA8, PIXEL_RGB8, PIXEL_GRAY8 = 1, 2, 3, 4


class Error(Exception):
    """A libshmimg failure: str(e) is the library's message, e.code its
    code (a negative shmimg_error)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class NoSegment(Error, FileNotFoundError):
    """No segment under that key."""


class Empty(Error):
    """The segment exists, but nothing has been published in it yet."""


class Incomplete(Error):
    """The publisher died while writing the only frame there was."""


class Corrupt(Error):
    """The segment file does not make sense (or is not a segment, or has an
    unknown layout version)."""


class Timeout(Error, TimeoutError):
    """Waited as long as asked."""


class PermissionDenied(Error, PermissionError):
    """Another user's segment that is not shared with us, or a mode that
    forbids the access."""


class InvalidKey(Error, ValueError):
    """Not a key: 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -."""


class TooBig(Error, ValueError):
    """Over the size limits (2^20 pixels wide or high)."""


class NoSpace(Error):
    """SHMIMG_DIR has no room for the frame."""


class Gone(Error):
    """The segment was removed or replaced: its publisher left."""


class Lapped(Error):
    """Frames were overwritten faster than this reader could copy them."""


_ERRORS = {
    ERR_NO_SEGMENT: NoSegment, ERR_EMPTY: Empty, ERR_INCOMPLETE: Incomplete,
    ERR_CORRUPT: Corrupt, ERR_VERSION: Corrupt, ERR_NOT_FILE: Corrupt,
    ERR_PERMISSION: PermissionDenied, ERR_KEY: InvalidKey,
    ERR_TOO_BIG: TooBig, ERR_NO_SPACE: NoSpace, ERR_TIMEOUT: Timeout,
    ERR_GONE: Gone, ERR_LAPPED: Lapped,
}


class _Frame(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("pitch", ctypes.c_uint32),
        ("publisher_pid", ctypes.c_uint32),
        ("frame", ctypes.c_uint64),
        ("publish_time_ns", ctypes.c_int64),
        ("source_name", ctypes.c_char * 256),
    ]


def _library_path():
    path = os.environ.get("SHMIMG_LIBRARY")
    if path:
        return path
    try:
        from . import _paths
        if os.path.exists(_paths.LIBRARY):
            return _paths.LIBRARY
    except ImportError:
        pass
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    return here if os.path.exists(here) else _SONAME


def _load():
    lib = ctypes.CDLL(_library_path())
    c_int, c_char_p, c_void_p, c_size_t, c_uint32 = (
        ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t,
        ctypes.c_uint32)
    handle_p = ctypes.POINTER(c_void_p)
    sigs = {
        "shmimg_version": (c_char_p, []),
        "shmimg_strerror": (c_char_p, [c_int]),
        "shmimg_last_error": (c_char_p, []),
        "shmimg_publisher_open": (c_int, [c_char_p, handle_p]),
        "shmimg_reader_open": (c_int, [c_char_p, handle_p]),
        "shmimg_close": (None, [c_void_p]),
        "shmimg_set_persist": (c_int, [c_void_p, c_int]),
        "shmimg_publish": (c_int, [c_void_p, c_void_p, c_uint32, c_uint32,
                                   c_size_t, c_int, c_char_p]),
        "shmimg_pull": (c_int, [c_void_p, c_void_p, c_size_t, c_size_t,
                                ctypes.POINTER(_Frame)]),
        "shmimg_peek": (c_int, [c_void_p, ctypes.POINTER(_Frame)]),
        "shmimg_wait": (c_int, [c_void_p, c_int]),
        "shmimg_remove": (c_int, [c_char_p]),
        "shmimg_info_json": (c_int, [c_char_p, ctypes.POINTER(c_void_p)]),
        "shmimg_list_json": (c_int, [ctypes.POINTER(c_void_p)]),
        "shmimg_free": (None, [c_void_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


_lib = _load()


def _check(rc):
    if rc < 0:
        message = _lib.shmimg_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(rc, Error)(message or _lib.shmimg_strerror(rc)
                                     .decode(), rc)
    return rc


def _key(key):
    if not isinstance(key, str):
        raise TypeError("a key is a str, not %s" % type(key).__name__)
    return key.encode("utf-8")


def _timeout_ms(timeout):
    if timeout is None:
        return -1
    return max(0, min(int(timeout * 1000), 2**31 - 1))


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.shmimg_version().decode()


def _frame_dict(f):
    return {
        "frame": f.frame, "width": f.width, "height": f.height,
        "pitch": f.pitch, "publisher_pid": f.publisher_pid,
        "publish_time_ns": f.publish_time_ns,
        "source": f.source_name.decode("utf-8", "replace"),
    }


class Publisher:
    """A publisher of key: keeps the segment alive until close() (or the
    end of the process), longer with persist=True. A context manager."""

    def __init__(self, key, persist=False):
        self._h = ctypes.c_void_p()
        _check(_lib.shmimg_publisher_open(_key(key), ctypes.byref(self._h)))
        self.key = key
        if persist:
            _check(_lib.shmimg_set_persist(self._h, 1))

    def publish(self, array, source=None):
        """Publishes array: (H, W, 4) RGBA or (H, W, 3) RGB uint8, or
        (H, W) grey; strided arrays are read in place when their pixels
        are packed within a row, copied first otherwise."""
        a = np.asarray(array)
        if a.dtype != np.uint8:
            raise TypeError("pixels must be uint8, not %s" % a.dtype)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
            raise ValueError("pixels must be (H, W, 4), (H, W, 3) or (H, W),"
                             " not %s" % (a.shape,))
        height, width, channels = a.shape
        if (a.strides[2] != 1 or a.strides[1] != channels
                or a.strides[0] < width * channels):
            a = np.ascontiguousarray(a)
        fmt = {4: PIXEL_RGBA8, 3: PIXEL_RGB8, 1: PIXEL_GRAY8}[channels]
        name = source.encode("utf-8") if source else None
        _check(_lib.shmimg_publish(self._h, a.ctypes.data, width, height,
                                   a.strides[0], fmt, name))

    def close(self):
        """Detaches; the last publisher out removes a segment that is not
        persistent."""
        if self._h:
            _lib.shmimg_close(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) and _lib:
            self.close()


class Reader:
    """A reader of key (which must exist). Never keeps the segment alive,
    never makes a publisher wait. A context manager:

        with shmimg.Reader("cam") as r:
            for img in r.frames(timeout=1.0):
                ...
    """

    def __init__(self, key):
        self._h = ctypes.c_void_p()
        _check(_lib.shmimg_reader_open(_key(key), ctypes.byref(self._h)))
        self.key = key
        self.last = None  # the metadata of the last frame pulled (a dict)

    def peek(self):
        """The newest frame's metadata (a dict), without its pixels."""
        f = _Frame()
        _check(_lib.shmimg_peek(self._h, ctypes.byref(f)))
        return _frame_dict(f)

    def pull(self, out=None):
        """A copy of the newest frame, an (H, W, 4) uint8 array. out, a
        C-contiguous (H, W, 4) uint8 array, is filled and returned when
        the frame has its shape (no allocation)."""
        f = _Frame()
        if out is None or not _fits(out):
            _check(_lib.shmimg_peek(self._h, ctypes.byref(f)))
            out = np.empty((f.height, f.width, 4), np.uint8)
        for _ in range(8):
            rc = _lib.shmimg_pull(self._h, out.ctypes.data, out.strides[0],
                                  out.nbytes, ctypes.byref(f))
            if rc == ERR_SMALL_BUFFER or (
                    rc == OK and (f.height, f.width) != out.shape[:2]):
                out = np.empty((f.height, f.width, 4), np.uint8)
                continue
            _check(rc)
            self.last = _frame_dict(f)
            return out
        raise Lapped("%s: the frame changed size at every try" % self.key,
                     ERR_LAPPED)

    def wait(self, timeout=None):
        """Sleeps until there is a frame this reader has not pulled (at once
        if there is one). timeout: seconds, None for ever. Raises Timeout,
        Gone (the publisher left)."""
        _check(_lib.shmimg_wait(self._h, _timeout_ms(timeout)))

    def frames(self, timeout=None):
        """Yields every new frame as it is published (an (H, W, 4) uint8
        copy; self.last has its metadata, whose "frame" number tells the
        frames skipped). Ends when the segment is removed (its publisher
        left); raises Timeout when no new frame comes within timeout
        seconds (None: wait for ever)."""
        while True:
            try:
                self.wait(timeout)
            except Gone:
                return
            yield self.pull()

    def close(self):
        if self._h:
            _lib.shmimg_close(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) and _lib:
            self.close()


def _fits(out):
    return (isinstance(out, np.ndarray) and out.dtype == np.uint8
            and out.ndim == 3 and out.shape[2] == 4
            and out.flags.c_contiguous and out.flags.writeable)


_publishers = {}


def publish(key, array, persist=False, source=None):
    """Publishes array under key: (H, W, 4) or (H, W, 3) uint8 (or (H, W)
    grey), strided or not. The segment lives while this process does (its
    publisher is kept, and reused by the next publish of key), or after it
    with persist=True."""
    pub = _publishers.get(key)
    if pub is None:
        pub = _publishers[key] = Publisher(key)
    if persist:
        _check(_lib.shmimg_set_persist(pub._h, 1))
    pub.publish(array, source)


def pull(key, out=None):
    """A copy of the newest frame of key: an (H, W, 4) uint8 array."""
    with Reader(key) as r:
        return r.pull(out)


def remove(key):
    """Removes the segment of key (attached processes keep their frames)."""
    pub = _publishers.pop(key, None)
    if pub is not None:
        pub.close()  # our publisher was the last: that removed it already
    rc = _lib.shmimg_remove(_key(key))
    if not (pub is not None and rc == ERR_NO_SEGMENT):
        _check(rc)


def _json(call, *args):
    p = ctypes.c_void_p()
    _check(call(*args, ctypes.byref(p)))
    try:
        return json.loads(ctypes.string_at(p.value).decode("utf-8"))
    finally:
        _lib.shmimg_free(p)


def info(key):
    """The segment of key as a dict: the fields of `shmimg info --json`."""
    return _json(_lib.shmimg_info_json, _key(key))


def list():  # noqa: A001 - the name the issue asks for: shmimg.list()
    """Every segment in SHMIMG_DIR, as a list of the dicts of info()."""
    return builtins.list(_json(_lib.shmimg_list_json))
