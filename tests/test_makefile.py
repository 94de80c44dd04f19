"""`make run` checks its port before installing or migrating anything."""

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def port_free(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "port-free", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_busy_port_is_named_with_the_command_to_use_instead():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = port_free(port)
    assert result.returncode != 0
    assert f"Port {port} is busy — run `make run PORT={port + 1}`" in result.stderr


def test_free_port_passes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert port_free(port).returncode == 0
