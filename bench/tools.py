"""What the benchmark needs beyond the project: wrk, Prism and matplotlib, installed on demand.

Prism and matplotlib go into bench/.tools/ (git-ignored), so the user's environment is untouched.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TOOLS = BENCH / ".tools"
# 5.14.2 is the newest Prism whose package.json accepts Node 20 (5.15+ want Node >= 24).
PRISM_VERSION = "5.14.2"
PRISM_PACKAGE = f"@stoplight/prism-cli@{PRISM_VERSION}"


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit("wrk is missing and there is no apt-get to install it: install wrk and run again")
    say("installing wrk (apt-get)")
    prefix = [] if _is_root() else ["sudo"]
    _run([*prefix, "apt-get", "update", "-qq"])
    _run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"])
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return found


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def ensure_prism() -> Path:
    """The Prism CLI entry point, installed with npm into bench/.tools/ at the pinned version."""
    cli = TOOLS / "node_modules" / ".bin" / "prism"
    manifest = TOOLS / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if cli.exists() and manifest.exists() and json.loads(manifest.read_text())["version"] == PRISM_VERSION:
        return cli
    if not shutil.which("npm") or not shutil.which("node"):
        raise SystemExit("Prism needs Node.js and npm: install them and run again")
    say(f"installing {PRISM_PACKAGE} (npm, into {TOOLS})")
    TOOLS.mkdir(exist_ok=True)
    _run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(TOOLS), PRISM_PACKAGE])
    if not cli.exists():
        raise SystemExit(f"npm did not install {PRISM_PACKAGE}")
    return cli


def ensure_matplotlib() -> None:
    """Import matplotlib, installing it into bench/.tools/py first if the environment lacks it."""
    target = TOOLS / "py"
    if target.is_dir() and str(target) not in sys.path:
        sys.path.insert(0, str(target))
    try:
        importlib.import_module("matplotlib")
        return
    except ImportError:
        pass
    say("installing matplotlib (pip, into bench/.tools/py)")
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "matplotlib"])
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    importlib.import_module("matplotlib")


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, text=True, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"
