"""Real `idstore serve` processes for tests that need several servers, or to kill one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """One `idstore serve` subprocess on a database URL."""

    db_url: str
    extra: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: tuple[str, str] = ("", "")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ServerProcess:
        args = [sys.executable, "-m", "idstore", "serve", "--port", str(self.port)]
        args += ["--db", self.db_url, "--log-level", "warning", *self.extra]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise RuntimeError(f"idstore serve exited early: {out}\n{err}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("idstore serve did not become healthy")

    def client(self, key: str = "AKIDSERVERTEST", retries: int = 1) -> Any:
        return boto3.client(
            "identitystore",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key="secret",
            config=BotoConfig(
                retries={"max_attempts": retries, "mode": "standard"},
                max_pool_connections=64,
            ),
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing; what a crash looks like."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.output = self.proc.communicate(timeout=10)

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.output = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.output = self.proc.communicate(timeout=10)
        return int(self.proc.returncode)


def create_store(db_url: str) -> str:
    """A new identity store in the database, through the CLI; returns its id."""
    out = subprocess.run(
        [sys.executable, "-m", "idstore", "stores", "create", "--db", db_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return out.strip().splitlines()[-1]
