"""Build durable-rules 2.0.28 for the Python that runs this script, with the one C API fix
Python 3.13 needs, into a folder of wheels that pip then installs from.

durable-rules 2.0.28, its last release, is published only as a source package, so every install
compiles it. Its extension calls ``PyEval_CallObject`` five times, all in
``src/rulespy/rules.c``; Python 3.13 removed that function, and the extension builds but fails at
import with ``undefined symbol: PyEval_CallObject``. ``PyObject_CallObject`` is its documented
replacement, with the same arguments. On Python 3.13 and later this script downloads the source
package from the package index, checks it is the published file (its SHA-256), makes that one
replacement and builds a wheel into ``wheels/``. Before 3.13 the published source builds as it
is, and nothing is done. Then::

    python -m pip install --find-links wheels .

takes durable-rules from that folder (pip prefers a wheel to a source package of the same
version). A wheel already built there for this Python is kept. Nothing is installed here.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path

NAME = "durable_rules"
VERSION = "2.0.28"
#: SHA-256 of durable_rules-2.0.28.tar.gz as published on the package index.
SHA256 = "053b26f5e48d312d4fa27995243f954671be6eece477f150c059c364eb4d7d61"
#: The file to patch, inside the unpacked source package, and the one replacement.
SOURCE = "src/rulespy/rules.c"
REMOVED, REPLACEMENT = "PyEval_CallObject(", "PyObject_CallObject("
CALLS = 5
#: The first Python without PyEval_CallObject.
NEEDED_FROM = (3, 13)
ROOT = Path(__file__).resolve().parent.parent


class BuildError(Exception):
    """Why the patched durable-rules could not be built."""


def needed(version: tuple[int, int] = sys.version_info[:2]) -> bool:
    """Whether this Python lacks ``PyEval_CallObject``, so the published source fails at import."""
    return version >= NEEDED_FROM


def patch(text: str) -> str:
    """``rules.c`` with its calls of the removed function replaced by the documented one."""
    found = text.count(REMOVED)
    if found != CALLS:
        raise BuildError(f"{SOURCE}: expected {CALLS} calls of {REMOVED[:-1]}, found {found}: "
                         f"this is not the durable-rules {VERSION} source this fix was made for")
    return text.replace(REMOVED, REPLACEMENT)


def check_archive(path: Path, expected: str = SHA256) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise BuildError(f"{path.name}: SHA-256 {digest}, but the published file's is {expected}: "
                         "not building from it")


def wheel_tag() -> str:
    """The interpreter and ABI part of a wheel's name for this Python (``cp313-cp313``)."""
    abi = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    return f"{abi}-{abi}{'t' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''}"


def built(wheel_dir: Path) -> Path | None:
    return next(iter(sorted(wheel_dir.glob(f"{NAME}-{VERSION}-{wheel_tag()}-*.whl"))), None)


def pip(*args: str) -> None:
    """Run pip with this Python; its output (the compiler's, durable-rules' packaging warnings)
    is shown only if it fails."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise BuildError(f"failed: {' '.join(command)}")


def build(wheel_dir: Path) -> Path:
    """Download, check, patch and build; the wheel's path."""
    with tempfile.TemporaryDirectory(prefix="durable-rules-") as scratch:
        work = Path(scratch)
        pip("download", "--quiet", "--no-deps", "--no-binary", ":all:", f"durable-rules=={VERSION}",
            "--dest", str(work))
        archive = work / f"{NAME}-{VERSION}.tar.gz"
        if not archive.is_file():
            raise BuildError(f"the package index did not give {archive.name}")
        check_archive(archive)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        source = work / f"{NAME}-{VERSION}" / SOURCE
        source.write_text(patch(source.read_text(encoding="utf-8")), encoding="utf-8")
        pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel_dir), str(source.parents[2]))
    wheel = built(wheel_dir)
    if wheel is None:
        raise BuildError(f"pip built no {NAME}-{VERSION}-{wheel_tag()} wheel in {wheel_dir}")
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--wheel-dir", type=Path, default=ROOT / "wheels",
                        help="where to put the wheel (default: wheels/ beside tools/)")
    args = parser.parse_args(argv)
    wheel_dir: Path = args.wheel_dir.resolve()
    wheel_dir.mkdir(parents=True, exist_ok=True)
    python = f"Python {sys.version.split()[0]}"
    if not needed():
        print(f"{python}: durable-rules {VERSION} builds as published; nothing to do")
        return 0
    wheel = built(wheel_dir)
    if wheel is not None:
        print(f"{python}: using {wheel}, built before")
        return 0
    print(f"{python}: building durable-rules {VERSION} with {REMOVED[:-1]} replaced by "
          f"{REPLACEMENT[:-1]} ...", flush=True)
    try:
        wheel = build(wheel_dir)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"built {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
