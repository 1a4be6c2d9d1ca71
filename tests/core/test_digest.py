"""core.digest: the same SHA-256 as hashlib whichever implementation it picks, and OpenSSL is
loaded only for large inputs or once the process has it."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from core import digest


@pytest.mark.parametrize("n", [0, 1, 65, 300, digest.LARGE - 1, digest.LARGE, digest.LARGE + 7])
def test_digests_match_hashlib(n: int) -> None:
    data = bytes(range(256)) * (n // 256) + bytes(n % 256)
    assert digest.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    h = digest.sha256(size=n)  # streamed: fed through update()
    h.update(data[: n // 2])
    h.update(data[n // 2 :])
    assert h.digest() == hashlib.sha256(data).digest()


def _fresh(code: str) -> str:
    p = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom core import digest\n" + code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_small_inputs_leave_openssl_unloaded() -> None:
    out = _fresh(
        "digest.sha256(b'x' * 1000).hexdigest()\n"
        "digest.sha256(size=digest.LARGE - 1).update(b'y')\n"
        "print('_hashlib' in sys.modules, 'hashlib' in sys.modules)\n"
    )
    assert out == "False False"


@pytest.mark.parametrize(
    "call", ["digest.sha256(b'x' * digest.LARGE)", "digest.sha256(size=digest.LARGE)"]
)
def test_large_inputs_load_openssl(call: str) -> None:
    out = _fresh(f"h = {call}\nprint('hashlib' in sys.modules, type(h).__module__)\n")
    assert out == "True _hashlib"


def test_a_process_with_openssl_keeps_using_it() -> None:
    out = _fresh("import hashlib\nprint(type(digest.sha256(b'x')).__module__)\n")
    assert out == "_hashlib"
