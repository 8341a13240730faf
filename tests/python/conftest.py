"""Fixtures of the Python module's tests (run by CTest: tests/CMakeLists.txt
sets PYTHONPATH to the build tree's module, SHMIMG_CLI, SHMIMG_EXAMPLES and
SHMIMG_SOURCE_DIR)."""
import os
import shutil
import tempfile

import pytest


@pytest.fixture(autouse=True)
def segdir(monkeypatch):
    """A private SHMIMG_DIR per test, so that tests run in parallel."""
    d = tempfile.mkdtemp(prefix="shmimg-py.", dir="/dev/shm")
    os.chmod(d, 0o1777)
    monkeypatch.setenv("SHMIMG_DIR", d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _tool(var):
    path = os.environ.get(var)
    if not path:
        pytest.skip("%s is not set (run through ctest)" % var)
    return path


@pytest.fixture
def cli():
    return _tool("SHMIMG_CLI")


@pytest.fixture
def examples():
    return _tool("SHMIMG_EXAMPLES")
