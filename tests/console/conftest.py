"""Fixtures of the console's tests: a real Chromium driven by Playwright, over a real server.

The browser is Debian's `chromium` (scripts/_browser installs it, and axe-core from npm into
tests/console/node_modules); Playwright's own browser download is never used. Every test here
runs on the database under test, like the rest of the suite.

- `config`: SigV4 mode with the suite's server key (the console's sign-in needs real keys);
- `console`: the running server (tests/conftest.py's `server`), a fresh identity store, and
  helpers: `console.key(read_only=...)` makes an access key for the store, `console.boto(pair)`
  a boto3 client over HTTP signing with it, `console.url(tail)` a page's URL;
- `page`: a new browser context and page for the test (the Content-Security-Policy applies);
- `axe_page`: the same with the CSP bypassed, so axe-core can be injected (`check_axe(page)`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from playwright.sync_api import Browser, Page, sync_playwright

from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store
from tests.conftest import REGION, TEST_SERVER_KEY, RunningServer

CHROMIUM = os.environ.get("IDSTORE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ACCOUNT = "000000000000"
VIEWPORT = {"width": 1200, "height": 760}
# Where the screenshot test writes the docs' pictures (unset: a temporary directory).
SCREENSHOTS = os.environ.get("IDSTORE_SCREENSHOTS")


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.name}"


@dataclass
class Console:
    server: RunningServer
    store: Store
    store_id: str
    _count: int = 0

    def url(self, tail: str = "") -> str:
        return f"{self.server.url}/console/stores/{self.store_id}{tail}"

    @property
    def home(self) -> str:
        return f"{self.server.url}/console/"

    def key(
        self, *, read_only: bool = False, stores: list[str] | None = None, name: str = ""
    ) -> KeyPair:
        self._count += 1
        name = name or f"admin{self._count}"
        key, secret = self.store.create_access_key(
            name=name,
            stores=[self.store_id] if stores is None else stores,
            read_only=read_only,
            server_key=ServerKey.from_text(TEST_SERVER_KEY),
            at=now(),
        )
        return KeyPair(key.access_key_id, secret, name)

    def boto(self, pair: KeyPair) -> Any:
        return boto3.client(
            "identitystore",
            endpoint_url=self.server.url,
            region_name=REGION,
            aws_access_key_id=pair.access_key_id,
            aws_secret_access_key=pair.secret,
            config=BotoConfig(retries={"mode": "standard", "max_attempts": 1}),
        )


@pytest.fixture
def config() -> Config:
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY)


@pytest.fixture
def console(server: RunningServer, store: Store) -> Console:
    return Console(server, store, store.create_identity_store(now()).store_id)


# Package scope: while Playwright's sync API is open, its event loop counts as running in this
# thread, and the suite's later tests call asyncio.run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: scripts/test installs Debian's chromium "
            "(apt-get install chromium), or set IDSTORE_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page(browser: Browser, **options: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser)


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    if not AXE.exists():
        pytest.fail(f"No axe-core at {AXE}: scripts/test installs it (npm ci in tests/console)")
    yield from _page(browser, bypass_csp=True)
