"""A throwaway virtualenv holding Covasim 3.1.6, for the side-by-side benchmark against Covasim.

Covasim is not a dependency of Cordon (it brings its own scientific stack and prints on import), so the
benchmark runs ``bench/covasim_runner.py`` with the python of a separate venv that this module builds.

Pins: covasim 3.1.6 declares only unversioned requirements (numpy, numba, pandas, scipy, statsmodels,
matplotlib, sciris>=2.0.4), so pip would resolve today's newest releases. Those happened to import and run it
on Python 3.11 when this was written, but nothing guarantees the next major numpy/pandas/sciris will, so the
scientific stack is pinned to the releases current when Covasim 3.1.6 came out (January 2024), all of which
ship CPython 3.11 wheels. Both stacks gave identical results for the same seed (checked on a 100,000-agent,
60-day sim) and the same speed to within a few per cent; the pinned one is kept for reproducibility.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

COVASIM_VERSION = "3.1.6"

PINS: tuple[str, ...] = (
    f"covasim=={COVASIM_VERSION}",
    "numpy==1.26.4",
    "numba==0.59.1",
    "pandas==2.2.0",
    "scipy==1.12.0",
    "matplotlib==3.8.2",
    "sciris==3.1.4",
    "statsmodels==0.14.1",
)

_TAIL_LINES = 40


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _venv_python(venv_dir: pathlib.Path) -> pathlib.Path:
    if sys.platform == "win32":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _installed_version(python: pathlib.Path) -> str | None:
    """Covasim's version in that venv, or None if the python is missing or covasim does not import."""
    if not python.exists():
        return None
    probe = "import covasim, sys; sys.stdout.write(covasim.__version__)"
    try:
        done = subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            text=True,
            timeout=600,  # the first import compiles Covasim's numba kernels
            env={**os.environ, "COVASIM_VERBOSE": "0"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else None


def _runs(python: pathlib.Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "pass"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).rstrip().splitlines()
        tail = "\n".join(output[-_TAIL_LINES:])
        raise RuntimeError(
            f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n--- output tail ---\n{tail}"
        )


def ensure_covasim_python(venv_dir: pathlib.Path) -> pathlib.Path:
    """The python of a venv at ``venv_dir`` in which ``import covasim`` gives Covasim 3.1.6.

    Returns at once if the venv already has it; otherwise (re)creates the venv with ``python3 -m venv`` and
    pip-installs the pinned stack. Raises RuntimeError, with the tail of pip's output, if that fails.
    """
    venv_dir = venv_dir.expanduser().resolve()
    python = _venv_python(venv_dir)
    if _installed_version(python) == COVASIM_VERSION:
        return python

    _log(f"installing covasim {COVASIM_VERSION} into a throwaway virtualenv at {venv_dir} ...")
    if not _runs(python):
        _log("  creating the virtualenv ...")
        _run(["python3", "-m", "venv", "--clear", str(venv_dir)], "python3 -m venv")
    _log(f"  pip install {' '.join(PINS)} (a few minutes on a cold cache) ...")
    _run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *PINS],
        "pip install",
    )
    _log("  checking that covasim imports (compiles its numba kernels once) ...")
    found = _installed_version(python)
    if found != COVASIM_VERSION:
        raise RuntimeError(
            f"covasim installed into {venv_dir} but `import covasim` reports {found!r}, "
            f"expected {COVASIM_VERSION!r}"
        )
    _log(f"covasim {COVASIM_VERSION} ready: {python}")
    return python


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the throwaway Covasim venv and print its python.")
    parser.add_argument(
        "venv_dir",
        type=pathlib.Path,
        nargs="?",
        default=pathlib.Path(tempfile.gettempdir()) / "cordon-bench-covasim",
    )
    print(ensure_covasim_python(parser.parse_args().venv_dir))
