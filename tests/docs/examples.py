"""Runnable examples of the documentation: finding them in Markdown, and running them as a
newcomer would, in a fresh copy of the repository with no AWS configuration.

The convention (docs/contributing.md#runnable-examples): an HTML comment right before a fenced
block marks it.

    <!-- run -->            python: run as a script; sh: run with bash -e -o pipefail
    <!-- run: pytest -->    python: a test module, run with pytest (the idstore plugin loaded)
    <!-- run: mypy -->      python: checked with mypy --strict (with the typed-client stubs),
                            then run as a script
    <!-- run: serve -->     sh: a command that starts a server (`./scripts/serve`,
                            `idstore serve ...`): started in the background, with `--port`
                            added, and used by the page's later blocks
    <!-- not run: WHY -->   says why a block is not run (README and getting-started must mark
                            every python and sh block one way or the other)

A page's blocks run in order, in one *session*: a copy of the repository's tracked files (the
working tree's versions; `.venv` links to the real one), HOME an empty directory, no `AWS_*` or
`IDSTORE_*` variables (except IDSTORE_DB pointing at a private PostgreSQL database when the
suite runs on PostgreSQL), the virtualenv's and the AWS CLI's `bin` first on PATH. A block that
names the endpoint `127.0.0.1:8765` or the store `d-0123456789` gets a server if the page has
not started one (`idstore serve` in the copy), and both are rewritten to the session's real
port and first identity store, so the examples stay readable and tests can run side by side.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PORT = "127.0.0.1:8765"
STORE = "d-0123456789"
KINDS = {"", "pytest", "mypy", "serve"}

_MARKER = re.compile(r"^\s*<!--\s*(run|not run)(?::\s*(.*?))?\s*-->\s*$")
_FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page, with its marker (`kind` None: not marked)."""

    page: str
    line: int
    language: str
    text: str
    kind: str | None
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the marker before it, if any."""
    page = str(path.relative_to(ROOT))
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    marker: tuple[str, str] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        mark = _MARKER.match(line)
        fence = _FENCE.match(line)
        if mark:
            marker = (mark.group(1), (mark.group(2) or "").strip())
        elif fence:
            indent, ticks, language = fence.groups()
            body: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(ticks):
                body.append(
                    lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
                )
                index += 1
            kind, reason = None, ""
            if marker is not None:
                if marker[0] == "run":
                    kind = marker[1]
                else:
                    kind, reason = "not run", marker[1]
            found.append(
                Block(page, index - len(body), language, "\n".join(body) + "\n", kind, reason)
            )
            marker = None
        elif line.strip():
            marker = None  # a marker belongs to the block right after it
        index += 1
    return found


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def aws_cli_bin() -> Path:
    """The AWS CLI v1 that tests/interop installs (the same cached virtualenv)."""
    from tests.interop.test_clients import _venv

    return _venv("awscli", "awscli>=1.36,<2") / "bin"


@dataclass
class Session:
    """A fresh copy of the repository where one page's examples run, in order."""

    base: Path
    database: str | None  # IDSTORE_DB for the session (a PostgreSQL URL), or None: SQLite files
    repo: Path = field(init=False)
    home: Path = field(init=False)
    scratch: Path = field(init=False)
    port: int = field(default_factory=_free_port)
    store_id: str | None = None
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    count: int = 0

    def __post_init__(self) -> None:
        self.repo, self.home, self.scratch = (self.base / n for n in ("repo", "home", "scratch"))
        for directory in (self.repo, self.home, self.scratch):
            directory.mkdir(parents=True)
        self._copy_repository()

    def _copy_repository(self) -> None:
        tracked = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.split(b"\0")
        for name in filter(None, (t.decode() for t in tracked)):
            source = ROOT / name
            if source.is_file():
                target = self.repo / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        # The real virtualenv, seen through links, with the stamps scripts/_venv looks for, so
        # that ./scripts/serve starts at once and installs nothing into it from the copy.
        venv = self.repo / ".venv"
        venv.mkdir()
        real = Path(sys.executable).parent.parent
        for name in ("bin", "lib", "include", "pyvenv.cfg"):
            if (real / name).exists():
                (venv / name).symlink_to(real / name)
        digest = hashlib.sha256((self.repo / "pyproject.toml").read_bytes()).hexdigest()[:16]
        for extras in ("postgres", "test-postgres"):
            (venv / f".idstore-{extras}-{digest}").touch()
        subprocess.run(["git", "init", "-q"], cwd=self.repo, check=True, timeout=60)
        subprocess.run(["git", "add", "-A"], cwd=self.repo, check=True, timeout=60)

    def env(self) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "IDSTORE_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))
        }
        path = os.pathsep.join([str(self.repo / ".venv" / "bin"), str(aws_cli_bin()), keep["PATH"]])
        env = {**keep, "HOME": str(self.home), "PATH": path}
        if self.database:
            env["IDSTORE_DB"] = self.database
        return env

    def untracked(self) -> list[str]:
        """Files the examples left in the copy that .gitignore does not cover."""
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=self.repo,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return [line[3:] for line in status.splitlines() if line.startswith("??")]

    # -- running ---------------------------------------------------------------------------

    def run(self, block: Block) -> None:
        text = block.text
        if block.kind == "serve":
            # One command; a trailing `# comment` would swallow the --port added to it.
            self.serve(block, re.sub(r"\s+#.*", "", text.strip()))
            return
        if PORT in text or STORE in text:
            if not self.servers:
                self.serve(block, "idstore serve")
            text = text.replace(PORT, f"127.0.0.1:{self.port}").replace(STORE, self.store())
        self.count += 1
        if block.language == "python":
            script = self.scratch / f"example_{self.count}.py"
            script.write_text(text)
            if block.kind == "mypy":
                self._check(block, self._mypy(script))
            if block.kind == "pytest":
                script = script.rename(self.scratch / f"test_example_{self.count}.py")
                command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
                command += ["-W", "error", "--rootdir", str(self.scratch), str(script)]
            else:
                command = [sys.executable, str(script)]
        elif block.language in ("sh", "bash", "shell"):
            command = ["bash", "-e", "-o", "pipefail", "-c", text]
        else:
            raise AssertionError(f"{block.where}: cannot run a {block.language or 'plain'} block")
        self._check(
            block,
            subprocess.run(
                command,
                cwd=self.repo,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            ),
        )

    def _mypy(self, script: Path) -> subprocess.CompletedProcess[str]:
        config = self.scratch / "mypy.ini"
        config.write_text("[mypy]\nstrict = True\n")
        command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir"]
        command += [str(self.scratch / ".mypy_cache"), str(script)]
        return subprocess.run(
            command,
            cwd=self.scratch,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    @staticmethod
    def _check(block: Block, result: subprocess.CompletedProcess[str]) -> None:
        assert result.returncode == 0, (
            f"the example at {block.where} failed ({result.returncode}):\n"
            f"{block.text}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )

    def serve(self, block: Block, command: str) -> None:
        """Start a server with `command` (plus `--port`) and wait until it answers."""
        self.stop()
        log = self.scratch / f"server_{len(self.servers)}.out"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", f"{command} --port {self.port}"],
                cwd=self.repo,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append(proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{block.where}: `{command}` exited:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"{block.where}: `{command}` did not answer:\n{log.read_text()}")
        found = re.search(
            r"(?:Created identity store |Identity store: )(d-[0-9a-f]{10})", log.read_text()
        )
        self.store_id = found.group(1) if found else self.store_id

    def server_output(self) -> str:
        return (self.scratch / f"server_{len(self.servers) - 1}.out").read_text()

    def store(self) -> str:
        assert self.store_id, "no identity store: the page's server printed none"
        return self.store_id

    def stop(self) -> None:
        for proc in self.servers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
