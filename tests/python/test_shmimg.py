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
    path = _persistent("perm")
    if os.geteuid() == 0:
        code = "import pwd, os; os.setgid(65534); os.setuid(pwd.getpwnam('nobody').pw_uid)\n"
    else:
        os.chmod(path, 0)
        code = ""
    r = subprocess.run([PY, "-c", code + textwrap.dedent("""
        import shmimg
        try:
            shmimg.pull("perm")
        except shmimg.PermissionDenied as e:
            print("denied:", e)
        """)], capture_output=True, text=True, env=dict(os.environ))
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


def test_error_classes_all_derive_from_error():
    for cls in (shmimg.NoSegment, shmimg.Empty, shmimg.Incomplete,
                shmimg.Corrupt, shmimg.Timeout, shmimg.PermissionDenied,
                shmimg.InvalidKey, shmimg.TooBig, shmimg.NoSpace, shmimg.Gone,
                shmimg.Lapped):
        assert issubclass(cls, shmimg.Error)


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
