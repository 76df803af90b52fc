"""Fixtures for every test: a clean environment, a store of its own, an S3-protocol server, and the command line."""

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

# OpenMP threads (LightGBM's, scikit-learn's) that wait for work sleep instead of spinning: on a machine whose
# cores other jobs share, spinning threads of a parallel region starve each other (a fit of 5,000 rows took 48 s
# instead of 1.5 s on 2 busy cores). Set before any test imports LightGBM; subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_addoption(parser):
    parser.addoption(
        "--model", action="append", default=[], help="run the tests common to every model for this one (repeatable)"
    )


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "modelfleet-test", "AWS_SECRET_ACCESS_KEY": "modelfleet-test-secret"}


def _quick_train() -> dict[str, str]:
    """For every registered model (one `modelfleet new` added too): train builds no compiled library (seconds)."""
    from importlib.metadata import entry_points

    names = {entry.name for entry in entry_points(group="modelfleet.models")} | {"churn", "ltv"}
    return {f"MODELFLEET_{name}_TRAIN_COMPILE".upper(): "off" for name in names}


QUICK_TRAIN = _quick_train()


@pytest.fixture(scope="session", autouse=True)
def quick_train():
    """Training builds no compiled library unless a test asks for one (``compile="on"``), module fixtures too."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in QUICK_TRAIN.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """Keep tests independent of the developer's shell: no MODELFLEET_* settings leak in."""
    for name in list(os.environ):
        if name.startswith("MODELFLEET_"):
            monkeypatch.delenv(name)
    for name, value in QUICK_TRAIN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@dataclasses.dataclass(frozen=True)
class Done:
    """What a run of the command line gave: its exit code and everything it wrote on stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def modelfleet(monkeypatch, capfd):
    """Run ``modelfleet ARGS`` (in ``cwd``, with ``env`` added) and return a Done.

    In this process by default, through ``dispatch.cli.main`` as the console script calls it, with stdout and
    stderr captured at the file descriptors (what C libraries print too). With ``process=True`` the real entry
    point runs in a subprocess: for what only a process shows (signals, a closed pipe, a fresh interpreter).
    """
    from dispatch import cli

    def run(args, cwd=None, env=None, *, process=False):
        args = [str(arg) for arg in args]
        if process:
            done = subprocess.run(
                [sys.executable, "-m", "dispatch", *args],
                capture_output=True,
                text=True,
                cwd=cwd,
                env={**os.environ, **(env or {})},
            )
            return Done(done.returncode, done.stdout, done.stderr)
        with monkeypatch.context() as scoped:
            if cwd is not None:
                scoped.chdir(cwd)
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            capfd.readouterr()  # what the test printed before is not the command's
            code = cli.main(args)
            out, err = capfd.readouterr()
        return Done(code, out, err)

    return run


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-protocol server (moto in server mode) on loopback, started for this test session, serving one
    request at a time so that conditional creates are atomic, as on S3 (see s3_server.py)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), "s3_server.py"), "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("the moto S3 server did not start")
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def s3_store(s3_endpoint, monkeypatch):
    """A store URL in a fresh bucket on the S3-protocol server; subprocesses inherit its settings."""
    import s3fs

    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MODELFLEET_STORAGE_OPTIONS", f'{{"client_kwargs": {{"endpoint_url": "{s3_endpoint}"}}}}')
    bucket = f"modelfleet-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint}, skip_instance_cache=True).mkdir(bucket)
    return f"s3://{bucket}/store"


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path):
    """A store URL on each backend: a local folder, and a bucket on the S3-protocol server."""
    if request.param == "local":
        return str(tmp_path / "store")
    return request.getfixturevalue("s3_store")


@pytest.fixture
def store_url(tmp_path):
    """A local store folder that exists only for this test."""
    return str(tmp_path / "store")


@pytest.fixture(params=["order-only", "order-and-no-file-check"])
def permuted_feature_order(request, monkeypatch):
    """A mutant: the manifest stores the features in reverse order; with "order-and-no-file-check", load also
    trusts the manifest without comparing it with the model file (the release before ordered lists did both
    wrong, and stored no profile, whose order would give it away). The conformance checks must fail against
    either mutant. Returns the error they must raise."""
    from shared.errors import ArtifactRejected
    from shared.monitoring import profile
    from shared.tables.schema import Schema

    written = Schema.to_manifest
    monkeypatch.setattr(Schema, "to_manifest", lambda self: list(reversed(written(self))))
    if request.param == "order-only":
        return ArtifactRejected
    monkeypatch.setattr(Schema, "aligned", lambda self, *recorded: self)
    monkeypatch.setattr(profile, "capture", lambda *args, **kwargs: None)
    return AssertionError
