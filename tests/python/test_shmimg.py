"""The Python module against the library, the CLI and the C examples:
round trips both ways byte for byte, live follow across processes, every
error class, a reader in one language and a publisher in the other at
3840x2160, info/list equal to the CLI's --json, the README's example."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import shmimg

PY = sys.executable


def pattern(width, height, n=1):
    """docs/examples/pattern.h in NumPy."""
    y, x = np.mgrid[0:height, 0:width].astype(np.uint32)
    return np.stack([(x + n) & 255, (y * 3) & 255, (x ^ y) & 255,
                     255 - (x + y) % 7], axis=-1).astype(np.uint8)


def noise(shape, seed=1):
    return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


def child(code, *args, **kw):
    """A Python child process running code (with shmimg imported)."""
    return subprocess.Popen([PY, "-c", "import shmimg, numpy as np, sys\n" +
                             textwrap.dedent(code), *args], **kw)


# ---- round trips -------------------------------------------------------------

def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", shmimg.version())
    assert shmimg.__version__ == shmimg.version()


def test_roundtrip_in_process_formats():
    rgba = noise((37, 53, 4))
    shmimg.publish("rt", rgba)
    assert np.array_equal(shmimg.pull("rt"), rgba)
    rgb = noise((20, 30, 3), 2)
    shmimg.publish("rt", rgb)
    got = shmimg.pull("rt")
    assert np.array_equal(got[..., :3], rgb) and (got[..., 3] == 255).all()
    grey = noise((9, 11), 3)
    shmimg.publish("rt", grey)
    got = shmimg.pull("rt")
    assert all(np.array_equal(got[..., c], grey) for c in range(3))


def test_strided_arrays():
    big = noise((64, 80, 4), 4)
    for view in (big[5:40, 7:60], big[::2, ::3], big[::-1], big[:, :, :3],
                 np.asfortranarray(big)):
        shmimg.publish("st", view)
        got = shmimg.pull("st")
        want = view if view.shape[2] == 4 else np.dstack(
            [view, np.full(view.shape[:2], 255, np.uint8)])
        assert np.array_equal(got, want)


def test_pull_into_out_without_allocating():
    a = noise((16, 16, 4))
    shmimg.publish("out", a)
    out = np.zeros_like(a)
    with shmimg.Reader("out") as r:
        assert r.pull(out) is out and np.array_equal(out, a)
        # Another size: a new array, the same content.
        b = noise((8, 4, 4), 5)
        shmimg.publish("out", b)
        got = r.pull(out)
        assert got is not out and np.array_equal(got, b)
        assert r.last["frame"] == 2 and r.last["width"] == 4


def test_cli_publishes_python_pulls(cli, segdir):
    a = noise((123, 77, 4), 6)
    raw = os.path.join(segdir, "in.raw")
    a.tofile(raw)
    subprocess.run([cli, "publish", "--key", "c2p", "--persist", "--raw",
                    "77x123", raw], check=True, capture_output=True)
    got = shmimg.pull("c2p")
    assert got.dtype == np.uint8 and got.shape == (123, 77, 4)
    assert got.tobytes() == a.tobytes()


def test_python_publishes_cli_pulls(cli, segdir):
    a = noise((61, 99, 4), 7)
    shmimg.publish("p2c", a)
    out = os.path.join(segdir, "out.raw")
    r = subprocess.run([cli, "pull", "--key", "p2c", "--follow", "--frames",
                        "1", "--raw", "-o", out], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert open(out, "rb").read() == a.tobytes()


def test_info_and_list_are_the_cli_json(cli):
    shmimg.publish("inf", noise((5, 6, 4)), persist=True, source="noise")
    shmimg.publish("inf2", noise((2, 2, 4)))
    mine = shmimg.info("inf")
    theirs = json.loads(subprocess.run([cli, "info", "--json", "--key", "inf"],
                                       check=True, capture_output=True,
                                       text=True).stdout)
    assert mine == theirs
    assert mine["width"] == 6 and mine["persist"] and mine["source"] == "noise"
    listed = shmimg.list()
    assert listed == json.loads(subprocess.run(
        [cli, "list", "--json"], check=True, capture_output=True,
        text=True).stdout)
    assert [s["key"] for s in listed] == ["inf", "inf2"]


# ---- live ------------------------------------------------------------------

def test_live_follow_across_processes():
    """A publisher process sends 60 frames whose pixels encode their number;
    this process follows: every frame got is whole and is its frame, in
    order; the generator ends when the publisher leaves."""
    pub = child("""
        p = shmimg.Publisher("live")
        p.publish(np.zeros((90, 160, 4), np.uint8))   # frame 1: the segment
        print("ready", flush=True); sys.stdin.readline()
        for n in range(2, 62):
            p.publish(np.full((90, 160, 4), n, np.uint8))
            __import__("time").sleep(0.005)
        p.close()
        """, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert pub.stdout.readline().strip() == "ready"
        got = []
        with shmimg.Reader("live") as r:
            r.pull()  # frame 1 seen
            pub.stdin.write("go\n")
            pub.stdin.flush()
            for img in r.frames(timeout=10):
                n = r.last["frame"]
                assert (img == n).all(), "frame %d is torn" % n
                got.append(n)
        assert got == sorted(got) and got[-1] == 61, got
        assert len(got) >= 30, "followed only %d of 60 frames" % len(got)
    finally:
        pub.kill()
        pub.wait()


def test_wait_wakes_on_publish_and_frames_times_out():
    with shmimg.Publisher("w") as p:
        p.publish(noise((4, 4, 4)))
        with shmimg.Reader("w") as r:
            r.wait(timeout=1)  # frame 1 not pulled yet: at once
            r.pull()
            with pytest.raises(shmimg.Timeout):
                r.wait(timeout=0.05)
            with pytest.raises(shmimg.Timeout):
                next(r.frames(timeout=0.05))


# ---- errors ----------------------------------------------------------------

def test_error_no_segment():
    with pytest.raises(shmimg.NoSegment) as e:
        shmimg.pull("none")
    assert "none" in str(e.value) and e.value.code == -10001
    assert isinstance(e.value, FileNotFoundError)
    with pytest.raises(shmimg.NoSegment):
        shmimg.info("none")


def test_error_empty():
    with shmimg.Publisher("empty"):
        with pytest.raises(shmimg.Empty):
            shmimg.pull("empty")


def _persistent(key, shape=(8, 8, 4)):
    with shmimg.Publisher(key, persist=True) as p:
        p.publish(noise(shape))
    return os.path.join(os.environ["SHMIMG_DIR"], "shmimg-" + key)


def test_error_incomplete():
    path = _persistent("inc")
    latest = int.from_bytes(open(path, "rb").read()[24:28], "little")
    seq_at = 128 + 320 * (latest & 3)  # buf[latest].seq (layout.h)
    with open(path, "r+b") as f:
        f.seek(seq_at)
        seq = int.from_bytes(f.read(4), "little")
        f.seek(seq_at)
        f.write((seq | 1).to_bytes(4, "little"))  # being written, writer gone
    with pytest.raises(shmimg.Incomplete) as e:
        shmimg.pull("inc")
    assert "inc" in str(e.value)


def test_error_corrupt():
    path = _persistent("bad")
    with open(path, "r+b") as f:
        f.write(b"NOTSHMIM")
    with pytest.raises(shmimg.Corrupt) as e:
        shmimg.pull("bad")
    assert path in str(e.value)
    assert shmimg.info("bad")["state"] == "unreadable"


def test_error_timeout():
    with shmimg.Publisher("to") as p:
        p.publish(noise((2, 2, 4)))
        with shmimg.Reader("to") as r:
            r.pull()
            with pytest.raises(shmimg.Timeout) as e:
                r.wait(timeout=0.02)
            assert isinstance(e.value, TimeoutError)


def test_error_permission(segdir):
    """Another uid is refused. The child imports shmimg (and NumPy) before
    it becomes nobody, so that it does not depend on whether nobody may
    read the checkout (one under /root, say)."""
    path = _persistent("perm")
    if os.geteuid() == 0:
        drop = textwrap.dedent("""
            import pwd
            try:
                nobody = pwd.getpwnam("nobody").pw_uid
            except KeyError:
                nobody = 65534
            try:
                os.setgroups([])
                os.setgid(nobody)
                os.setuid(nobody)
            except OSError as e:  # a user namespace without that uid
                print("cannot become nobody:", e)
                sys.exit(0)
            """)
    else:
        os.chmod(path, 0)
        drop = ""
    r = subprocess.run([PY, "-c", "import os, sys, shmimg\n" + drop +
                        textwrap.dedent("""
        try:
            shmimg.pull("perm")
        except shmimg.PermissionDenied as e:
            print("denied:", e)
        """)], capture_output=True, text=True, env=dict(os.environ),
                       cwd="/")
    if r.stdout.startswith("cannot become nobody"):
        pytest.skip(r.stdout.strip())
    assert r.stdout.startswith("denied:"), r.stdout + r.stderr
    assert "perm" in r.stdout


def test_error_key_too_big_gone_no_space():
    with pytest.raises(shmimg.InvalidKey):
        shmimg.pull("-bad/key")
    with pytest.raises(shmimg.TooBig):
        shmimg.publish("big", np.zeros((1, (1 << 20) + 1, 4), np.uint8))
    with pytest.raises(TypeError):
        shmimg.publish("f", np.zeros((2, 2, 4), np.float32))
    with shmimg.Publisher("gone") as p:
        p.publish(noise((2, 2, 4)))
        with shmimg.Reader("gone") as r:
            r.pull()
            shmimg.remove("gone")
            with pytest.raises(shmimg.Gone):
                r.wait(timeout=2)
    # No space: the file may not grow past 1 MiB (RLIMIT_FSIZE).
    r = subprocess.run([PY, "-c", textwrap.dedent("""
        import resource, signal, numpy as np, shmimg
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        p = shmimg.Publisher("full")
        p.publish(np.full((16, 16, 4), 7, np.uint8))
        try:
            p.publish(np.zeros((1024, 1024, 4), np.uint8))
        except shmimg.NoSpace as e:
            print("nospace:", e)
        print("kept:", int(shmimg.pull("full")[0, 0, 0]))
        """)], capture_output=True, text=True)
    assert "nospace:" in r.stdout and "kept: 7" in r.stdout, r.stdout + r.stderr


def test_nul_in_a_string_is_refused(segdir):
    """A NUL would end the C string early: "p\\0x" would act on key p.
    Every string that goes to C is refused whole instead."""
    img = noise((4, 4, 4))
    shmimg.publish("p", img, persist=True)  # what a cut key would reach
    shmimg.remove("p")
    for key in ("p\0x", "p\0", "\0p", "\0"):
        for call in (lambda: shmimg.publish(key, img),
                     lambda: shmimg.publish(key, img, persist=True),
                     lambda: shmimg.pull(key), lambda: shmimg.Reader(key),
                     lambda: shmimg.Publisher(key), lambda: shmimg.info(key),
                     lambda: shmimg.remove(key)):
            with pytest.raises(shmimg.InvalidKey) as e:
                call()
            assert "NUL" in str(e.value) and e.value.code == -10008
            assert not re.search(r"[\x00-\x1f\x7f]", str(e.value))
    assert shmimg.list() == [] and os.listdir(segdir) == []
    with pytest.raises(shmimg.InvalidKey):  # not UTF-8 at all
        shmimg.pull("\udcff\ud800")
    with pytest.raises(ValueError) as e:
        shmimg.publish("src", img, source="name\0.png")
    assert "NUL" in str(e.value)
    with shmimg.Reader("src") as r:  # the publisher was made, not the frame
        with pytest.raises(shmimg.Empty):
            r.pull()


def test_messages_are_escaped(segdir, monkeypatch):
    """What a key or a file name puts in a message cannot reach a terminal
    as a control character: the library escapes it (<shmimg.h>)."""
    controls = re.compile(r"[\x00-\x1f\x7f-\x9f\u202e]")
    with pytest.raises(shmimg.InvalidKey) as e:
        shmimg.pull("a\x1b]0;owned\x07b")
    assert not controls.search(str(e.value)), repr(str(e.value))
    assert "a\\e]0;owned\\x07b" in str(e.value)
    monkeypatch.setenv("SHMIMG_DIR", segdir + "/no\x1b[2J\u202edir")
    with pytest.raises(shmimg.Error) as e:
        shmimg.publish("k", noise((2, 2, 4)))
    assert not controls.search(str(e.value)), repr(str(e.value))
    assert "no\\e[2J\\u202edir" in str(e.value)


def test_sizes_over_uint32_are_refused():
    """A shape C's uint32_t would wrap is refused before anything is read
    (the array's memory is never touched: a stride of 0)."""
    huge = np.lib.stride_tricks.as_strided(np.zeros(4, np.uint8),
                                           shape=(2**32 + 8, 1, 4),
                                           strides=(0, 4, 1))
    with pytest.raises(shmimg.TooBig):
        shmimg.publish("huge", huge)
    assert shmimg.list()[0]["state"] == "empty"


def test_error_classes_all_derive_from_error():
    for cls in (shmimg.NoSegment, shmimg.Empty, shmimg.Incomplete,
                shmimg.Corrupt, shmimg.Timeout, shmimg.PermissionDenied,
                shmimg.InvalidKey, shmimg.TooBig, shmimg.NoSpace, shmimg.Gone,
                shmimg.Lapped):
        assert issubclass(cls, shmimg.Error)


# ---- a frame that changes size, out= of another shape -------------------------

def square(side, n):
    """Frame n of a publisher: side x side, every byte n mod 251."""
    return np.full((side, side, 4), n % 251, np.uint8)


class _Resizing:
    """The library, except that before each shmimg_pull a publisher puts up
    a frame of another size: the frame always changes size between what a
    pull sized its array from and the copy."""

    def __init__(self, lib, key, sides):
        self.lib, self.sides, self.n = lib, sides, 100
        self.pub = shmimg.Publisher(key)
        self.newest = None

    def __getattr__(self, name):
        return getattr(self.lib, name)

    def shmimg_pull(self, *args):
        self.n += 1
        self.newest = square(self.sides[self.n % len(self.sides)], self.n)
        self.pub.publish(self.newest)
        return self.lib.shmimg_pull(*args)


@pytest.mark.parametrize("first", [8, 40])
@pytest.mark.parametrize("with_out", [False, True])
def test_pull_when_the_frame_changes_size(monkeypatch, first, with_out):
    """Row 4: the frame grows or shrinks between the peek and the pull,
    and again between two pulls: pull() returns a copy of the newest."""
    hook = _Resizing(shmimg._lib._lib, "rs", [8, 40])
    hook.pub.publish(square(first, 1))
    monkeypatch.setattr(shmimg._lib, "_lib", hook)
    with shmimg.Reader("rs") as r:
        for _ in range(6):
            out = np.zeros((first, first, 4), np.uint8) if with_out else None
            got = r.pull(out)
            assert got.shape == hook.newest.shape
            assert np.array_equal(got, hook.newest)
            assert r.last["width"] == got.shape[1]
            assert got.flags.c_contiguous and got.flags.owndata or got is out
    hook.pub.close()


def test_pull_gives_up_on_a_frame_that_always_grows(monkeypatch):
    """The retries are bounded: a frame larger at every try is Lapped."""
    hook = _Resizing(shmimg._lib._lib, "grows", [0])
    hook.pub.publish(square(8, 1))
    hook.shmimg_pull = lambda *args: (
        setattr(hook, "n", hook.n + 1),
        hook.pub.publish(square(8 * (hook.n - 99), hook.n)),
        hook.lib.shmimg_pull(*args))[2]
    monkeypatch.setattr(shmimg._lib, "_lib", hook)
    with shmimg.Reader("grows") as r:
        with pytest.raises(shmimg.Lapped):
            r.pull()
    hook.pub.close()


def test_pull_racing_a_publisher_of_two_sizes():
    """Row 4 for real: a publisher process alternates 8x8 and 40x40 frames,
    unpaced, while 4 reader threads pull. Every pull is one whole frame of
    one of the two sizes (a Lapped, a reader too slow, is allowed)."""
    import threading
    pub = child("""
        p = shmimg.Publisher("race")
        p.publish(np.full((8, 8, 4), 1, np.uint8))
        print("ready", flush=True)
        n = 1
        while not sys.stdin.closed:
            n += 1
            s = 8 if n % 2 else 40
            p.publish(np.full((s, s, 4), n % 251, np.uint8))
            if n % 64 == 0:
                import select
                if select.select([sys.stdin], [], [], 0)[0]:
                    break
        """, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    errors, counts = [], []

    def reader(i):
        got = lapped = 0
        try:
            with shmimg.Reader("race") as r:
                out = np.empty((8, 8, 4), np.uint8)
                for k in range(1500):
                    try:
                        img = r.pull(out if k % 2 else None)
                    except shmimg.Lapped:
                        lapped += 1
                        continue
                    assert img.shape in ((8, 8, 4), (40, 40, 4)), img.shape
                    assert (img == r.last["frame"] % 251).all(), "torn"
                    assert img.shape[:2] == (r.last["height"],
                                             r.last["width"])
                    got += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("thread %d: %r" % (i, e))
        counts.append((got, lapped))

    try:
        assert pub.stdout.readline().strip() == "ready"
        threads = [threading.Thread(target=reader, args=(i,))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert len(counts) == 4 and sum(c[0] for c in counts) > 0, counts
    finally:
        pub.stdin.write("stop\n")
        pub.stdin.close()
        pub.wait(30)


def test_pull_out_of_another_shape():
    """Row 5: out= that does not have the frame's shape gives a new array
    (as documented), whatever the shapes."""
    a = noise((64, 96, 4), 8)
    shmimg.publish("oshape", a)
    for out in (np.empty((10, 10, 4), np.uint8),
                np.empty((64, 95, 4), np.uint8),
                np.empty((63, 96, 4), np.uint8),
                np.empty((96, 64, 4), np.uint8),
                np.empty((200, 200, 4), np.uint8),
                np.empty((64, 96, 3), np.uint8),
                np.empty((64, 96, 4), np.float32),
                np.empty((64, 96, 4), np.uint8)[:, ::-1],
                np.empty((64 * 96 * 4,), np.uint8)):
        before = out.copy()
        got = shmimg.pull("oshape", out=out)
        assert got is not out and np.array_equal(got, a), out.shape
        assert np.array_equal(out, before, equal_nan=out.dtype.kind == "f")
    out = np.empty((64, 96, 4), np.uint8)
    assert shmimg.pull("oshape", out=out) is out and np.array_equal(out, a)


# ---- Ctrl-C in a wait --------------------------------------------------------

@pytest.mark.parametrize("call", ["r.wait()", "r.wait(timeout=3600)",
                                  "next(r.frames())"])
def test_wait_is_interrupted_by_sigint(call):
    """Row 6: a wait without a timeout (or a long one) ends with
    KeyboardInterrupt when SIGINT comes, within 5 s (the slices are 0.1 s;
    5 s is room for a loaded machine)."""
    proc = child("""
        p = shmimg.Publisher("sig")
        p.publish(np.zeros((2, 2, 4), np.uint8))
        r = shmimg.Reader("sig")
        r.pull()
        print("waiting", flush=True)
        try:
            %s
            print("returned")
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        """ % call, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "waiting"
        __import__("time").sleep(0.5)  # well inside the C wait, mostly
        sent = __import__("time").monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        took = __import__("time").monotonic() - sent
    finally:
        proc.kill()
        proc.wait()
    assert out.strip() == "interrupted", out
    assert took < 5, "KeyboardInterrupt after %.1f s" % took


# ---- fork() ------------------------------------------------------------------

def test_fork_child_leaves_the_parents_segment(segdir):
    """Row 3: a child of fork() that closes, or drops at exit, the
    publishers it inherited touches nothing of the parent's: the parent's
    next publishes land in the live files, which a new reader reads."""
    proc = child("""
        import os
        shmimg.publish("fk", np.full((4, 4, 4), 1, np.uint8))
        p = shmimg.Publisher("fk2")
        p.publish(np.full((4, 4, 4), 1, np.uint8))
        pid = os.fork()
        if pid == 0:
            try:
                p.publish(np.full((4, 4, 4), 7, np.uint8))
                print("child published with the parent's publisher")
            except shmimg.Error as e:
                print("refused:", e.code, flush=True)
            p.close()
            # publish() opens a publisher of the child's own.
            shmimg.publish("fk", np.full((4, 4, 4), 9, np.uint8))
            sys.exit(0)  # a normal exit: finalizers run
        _, status = os.waitpid(pid, 0)
        print("child exit", status, flush=True)
        for key in ("fk", "fk2"):
            path = os.path.join(os.environ["SHMIMG_DIR"], "shmimg-" + key)
            print(key, os.path.exists(path), flush=True)
        shmimg.publish("fk", np.full((4, 4, 4), 2, np.uint8))
        p.publish(np.full((4, 4, 4), 3, np.uint8))
        print("published", flush=True)
        sys.stdin.readline()
        """, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(5)]
        assert lines == ["refused: -10015", "child exit 0", "fk True",
                         "fk2 True", "published"], lines
        got = shmimg.pull("fk")
        assert (got == 2).all(), got[0, 0]
        assert (shmimg.pull("fk2") == 3).all()
        assert shmimg.info("fk")["publisher_pid"] == proc.pid
    finally:
        proc.stdin.close()
        proc.wait(30)
    assert os.listdir(segdir) == []  # the parent was the last out


# ---- across languages, 3840x2160 --------------------------------------------

def test_c_publishes_python_reads_4k(examples):
    subprocess.run([os.path.join(examples, "example_publish"), "uhd", "3840",
                    "2160"], check=True, capture_output=True)
    got = shmimg.pull("uhd")
    assert got.shape == (2160, 3840, 4)
    assert np.array_equal(got, pattern(3840, 2160))


def test_python_publishes_c_reads_4k(examples):
    shmimg.publish("uhd2", pattern(3840, 2160))
    r = subprocess.run([os.path.join(examples, "example_pull"), "uhd2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3840x2160 from pid %d: 0 pixels differ" % os.getpid() in r.stdout


# ---- the README's example ---------------------------------------------------

def test_readme_python_example():
    src = os.environ.get("SHMIMG_SOURCE_DIR")
    if not src:
        pytest.skip("SHMIMG_SOURCE_DIR is not set")
    text = open(os.path.join(src, "README.md")).read()
    m = re.search(r"<!-- example: python -->\s*```python\n(.*?)```", text,
                  re.S)
    assert m, "no Python example in README.md"
    r = subprocess.run([PY, "-c", m.group(1)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["(480, 640, 4)", "complete"]
