"""moto's own identitystore test suite, run unchanged against the test mode.

The suite comes from moto's source distribution on PyPI (moto 5.2.5, the release the benchmarks
compare with), fetched once into .cache/moto/. It runs in a subprocess with a stand-in `moto`
package whose `mock_aws` is `mock_identitystore(auto_create_stores=True)` over the database
under test (in-memory SQLite, or the PostgreSQL test database); the one edit to the
suite makes its made-up store ids valid (moto draws `d-` + 10 lower-case letters, the model's
pattern wants hex digits). Every test that still fails is a place where moto differs from AWS,
listed with its reason and source in data/moto_differences.toml; this test fails unless exactly
those fail, so the list stays true in both directions.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MOTO = "moto==5.2.5"
SUITE = "tests/test_identitystore/test_identitystore.py"
HERE = Path(__file__).parent
CACHE = HERE.parent.parent / ".cache" / "moto"

# The only change to the suite: its store ids, from letters to hex digits.
_LETTERS = "random.choices(string.ascii_lowercase, k=10)"
_HEX = 'random.choices("0123456789abcdef", k=10)'

_SHIM = {
    "moto/__init__.py": '''
        """A stand-in for moto: its decorator is idstore's test mode, on the suite's database."""
        import os

        from idstore.testing import mock_identitystore


        def mock_aws(func):
            db_url = os.environ["IDSTORE_MOTO_DB"]
            return mock_identitystore(auto_create_stores=True, db_url=db_url)(func)
    ''',
    "moto/moto_api/__init__.py": "",
    "moto/moto_api/_internal/__init__.py": """
        import uuid as mock_random  # moto's suite draws ids with mock_random.uuid4()
    """,
}


def _suite_source() -> str:
    """moto's test file, from its sdist (downloaded on first use)."""
    archives = sorted(CACHE.glob("moto-*.tar.gz"))
    if not archives:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--disable-pip-version-check",
                MOTO,
                "-d",
                str(CACHE),
            ],
            check=True,
            timeout=600,
        )
        archives = sorted(CACHE.glob("moto-*.tar.gz"))
    with tarfile.open(archives[-1]) as archive:
        member = archive.getmember(f"{archives[-1].name.removesuffix('.tar.gz')}/{SUITE}")
        source = archive.extractfile(member)
        assert source is not None
        return source.read().decode()


def _outcomes(junit: Path) -> dict[str, str]:
    """Test name -> "passed", "failed" or "skipped", from pytest's JUnit XML."""
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        outcomes[case.get("name", "")] = "failed" if failed else "skipped" if skipped else "passed"
    return outcomes


def test_motos_suite_fails_only_where_moto_differs_from_aws(tmp_path: Path, db_url: str) -> None:
    source = _suite_source()
    assert source.count(_LETTERS) == 1, "the suite's store id helper changed: review the edit"
    (tmp_path / "test_identitystore.py").write_text(source.replace(_LETTERS, _HEX))
    shim = tmp_path / "shim"
    for name, text in _SHIM.items():
        path = shim / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"--junitxml={junit}",
            "--rootdir",
            str(tmp_path),
            "test_identitystore.py",
        ],
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(shim),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "IDSTORE_MOTO_DB": db_url,
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert junit.exists(), run.stdout + run.stderr
    outcomes = _outcomes(junit)
    expected = tomllib.loads((HERE / "data" / "moto_differences.toml").read_text())
    differences = {d["test"]: d for d in expected["difference"]}
    assert all(d["reason"] and d["source"] for d in differences.values())
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    assert len(outcomes) == 40, run.stdout[-2000:]
    assert failed == set(differences), run.stdout[-4000:]
    assert sum(o == "passed" for o in outcomes.values()) == 40 - len(differences)
