"""ctypes bindings of libshmimg (<shmimg.h>) and the Pythonic layer over them."""

import builtins
import ctypes
import json
import math
import os
import time
import weakref

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

# A wait is made of C waits this long: Python runs a signal's handler
# (Ctrl-C's KeyboardInterrupt) only when the C call has returned.
_WAIT_SLICE_MS = 100
# How many times pull() sizes its array again for a frame that grew since
# it was sized (each try has met a frame larger than any before it).
_SIZE_TRIES = 8


class Error(Exception):
    """A libshmimg failure: str(e) is the library's message, e.code its
    code (a negative shmimg_error). The message is safe to print: the
    library escapes the control and invisible characters of the keys and
    file names it quotes (\\e, \\x1f, \\u202e, \\\\)."""

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


def _c_string(text, what):
    """text as the bytes of a C string; a NUL would end it early, and C
    would act on what comes before it (another key, a shorter name)."""
    if "\0" in text:
        raise ValueError("%s %r contains a NUL character" % (what, text))
    return text.encode("utf-8", "surrogateescape")


def _key(key):
    if not isinstance(key, str):
        raise TypeError("a key is a str, not %r" % type(key).__name__)
    if "\0" in key:
        raise InvalidKey("invalid key %r: it contains a NUL character" % key,
                         ERR_KEY)
    try:
        return key.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise InvalidKey("invalid key %r: not a string of characters" % key,
                         ERR_KEY) from None


def _seconds(timeout):
    """timeout (seconds, None or inf: for ever) as a number, or None."""
    if timeout is None:
        return None
    timeout = float(timeout)
    if math.isnan(timeout):
        raise ValueError("timeout is NaN")
    return None if math.isinf(timeout) and timeout > 0 else max(0.0, timeout)


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


class _Handle:
    """What a Publisher and a Reader share: one libshmimg handle of key,
    closed by close(), at the end of a with block, when the object is
    collected, or at the latest when the interpreter exits."""

    def __init__(self, open_call, key):
        self._h = _open(open_call, key, self)
        self.key = key

    def close(self):
        """Detaches. In a child of fork(), only forgets the handle: the
        parent's segment is left as it is."""
        _close(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Publisher(_Handle):
    """A publisher of key: keeps the segment alive until close() (or the
    end of the process), longer with persist=True. A context manager."""

    def __init__(self, key, persist=False):
        super().__init__(_lib.shmimg_publisher_open, key)
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
        if height > 0xffffffff or width > 0xffffffff:  # C's uint32_t
            raise TooBig("pixels %dx%d: over 2^20 pixels wide or high"
                         % (width, height), ERR_TOO_BIG)
        if (a.strides[2] != 1 or a.strides[1] != channels
                or a.strides[0] < width * channels):
            a = np.ascontiguousarray(a)
        fmt = {4: PIXEL_RGBA8, 3: PIXEL_RGB8, 1: PIXEL_GRAY8}[channels]
        name = _c_string(source, "source") if source else None
        _check(_lib.shmimg_publish(self._h, a.ctypes.data, width, height,
                                   a.strides[0], fmt, name))

    def close(self):
        """Detaches; the last publisher out removes a segment that is not
        persistent. In a child of fork(), only forgets the handle: the
        parent's segment is left as it is."""
        _close(self)


class Reader(_Handle):
    """A reader of key (which must exist). Never keeps the segment alive,
    never makes a publisher wait. A context manager:

        with shmimg.Reader("cam") as r:
            for img in r.frames(timeout=1.0):
                ...
    """

    def __init__(self, key):
        super().__init__(_lib.shmimg_reader_open, key)
        self.last = None  # the metadata of the last frame pulled (a dict)

    def peek(self):
        """The newest frame's metadata (a dict), without its pixels."""
        f = _Frame()
        _check(_lib.shmimg_peek(self._h, ctypes.byref(f)))
        return _frame_dict(f)

    def pull(self, out=None):
        """A copy of the newest frame, an (H, W, 4) uint8 array. out, a
        C-contiguous (H, W, 4) uint8 array, is filled and returned when
        the frame has its shape (no allocation); otherwise a new array is
        returned (and out's content is undefined when the frame changed
        size during the call). The frame may change size at any moment:
        the copy is always of one whole frame, whichever was newest."""
        f = _Frame()
        _check(_lib.shmimg_peek(self._h, ctypes.byref(f)))
        shape = (f.height, f.width, 4)
        if out is not None and _fits(out) and out.shape == shape:
            buf = out
        else:
            buf = np.empty(shape, np.uint8)
        for _ in range(_SIZE_TRIES):
            rc = _lib.shmimg_pull(self._h, buf.ctypes.data, buf.strides[0],
                                  buf.nbytes, ctypes.byref(f))
            if rc == ERR_SMALL_BUFFER:  # it grew: room for both sizes
                buf = np.empty((max(f.height, buf.shape[0]),
                                max(f.width, buf.shape[1]), 4), np.uint8)
                continue
            _check(rc)
            self.last = _frame_dict(f)
            if buf.shape[:2] == (f.height, f.width):
                return buf
            return buf[:f.height, :f.width].copy()  # smaller: its own array
        raise Lapped("%s: the frame grew at each of %d tries"
                     % (self.key, _SIZE_TRIES), ERR_LAPPED)

    def wait(self, timeout=None):
        """Sleeps until there is a frame this reader has not pulled (at once
        if there is one). timeout: seconds, None for ever. Raises Timeout,
        Gone (the publisher left); Ctrl-C (KeyboardInterrupt) and other
        signal handlers run within 0.1 s."""
        seconds = _seconds(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            slice_ms = _WAIT_SLICE_MS
            if deadline is not None:
                left = deadline - time.monotonic()
                slice_ms = max(0, min(slice_ms, math.ceil(left * 1000)))
            rc = _lib.shmimg_wait(self._h, slice_ms)
            if rc != ERR_TIMEOUT:
                _check(rc)
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout("%s: no new frame in %g s" % (self.key, seconds),
                              ERR_TIMEOUT)

    def frames(self, timeout=None):
        """Yields every new frame as it is published (an (H, W, 4) uint8
        copy; self.last has its metadata, whose "frame" number tells the
        frames skipped). Ends when the segment is removed (its publisher
        left); raises Timeout when no new frame comes within timeout
        seconds (None: wait for ever). Interruptible as wait() is."""
        while True:
            try:
                self.wait(timeout)
            except Gone:
                return
            yield self.pull()


def _open(call, key, owner):
    """A handle of key for owner (a Publisher or a Reader), closed by
    owner.close(), when owner is collected, or at the latest when the
    interpreter exits (weakref.finalize: a __del__ would run too late,
    after the module's globals are gone, and leave the segment behind)."""
    h = ctypes.c_void_p()
    _check(call(_key(key), ctypes.byref(h)))
    owner._finalizer = weakref.finalize(owner, _lib.shmimg_close, h)
    return h


def _close(owner):
    """Closes owner's handle once; later calls on it are refused by the
    library (a NULL handle), never a use after free."""
    handle = owner.__dict__.get("_h")
    if handle:
        owner._finalizer()
        owner._h = ctypes.c_void_p()


def _fits(out):
    return (isinstance(out, np.ndarray) and out.dtype == np.uint8
            and out.ndim == 3 and out.shape[2] == 4
            and out.flags.c_contiguous and out.flags.writeable)


_publishers = {}


def _forget_publishers():
    """In the child of a fork(): the publishers of publish() are the
    parent's. Dropped here (their close() leaves the parent's segment as it
    is, <shmimg.h>), so that the child's publish() opens its own."""
    _publishers.clear()


os.register_at_fork(after_in_child=_forget_publishers)


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
