"""Install MammoBench and its extras into the running interpreter's environment, two pip processes at once.

``make`` runs it with ``.venv/bin/python`` when it creates ``.venv`` or ``pyproject.toml`` changed. A plain
``pip install -e '.[dev]'`` unpacks and byte-compiles ≈ 100 wheels one after the other on one core (≈ 78 s on
the 2-core CI machine; the torch stack alone is 2.8 GB of CUDA libraries). Here pip resolves the same
requirement once (``--dry-run --report``: the exact wheels the plain install would pick, i.e. those missing or
outdated — all of them in a new environment, none in an up-to-date one), the wheels are installed by two
``pip install --no-deps`` processes side by side (the torch stack in one, the rest in the other: disjoint sets,
so they never write the same files), then the project itself, editable, without dependencies,
and ``pip check`` confirms that every requirement is met. Any failure falls back to the plain install, which
completes or repairs the environment. Only pip is used (the torch pins install from the same indexes as
before, never through uv or poetry).

Usage:
    .venv/bin/python tools/install_env.py [EXTRAS]     # EXTRAS default: dev

Example:
    >>> split_wheels([("torch", "t.whl"), ("numpy", "n.whl"), ("nvidia-cublas", "c.whl"), ("ray", "r.whl")])
    (['t.whl', 'c.whl'], ['n.whl', 'r.whl'])
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip"]
#: names (prefixes) of the large wheels installed by the first process; everything else goes to the second. Each
#: half alone, one after the other in a new venv on the 2-core machine: the torch stack (torch, torchvision, triton,
#: the CUDA libraries) 36 s, the rest 33 s plus Ray's 5 s (the rest is ≈ 80 small wheels whose byte-compiling
#: is most of their time); Ray was in the first half, which made it 41 s against 33 s
HEAVY = ("torch", "nvidia", "cuda", "triton")


def split_wheels(wheels: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Split ``(name, url)`` pairs into the heavy set (:data:`HEAVY` prefixes) and the rest, keeping order."""
    heavy = [url for name, url in wheels if name.lower().startswith(HEAVY)]
    rest = [url for name, url in wheels if not name.lower().startswith(HEAVY)]
    return heavy, rest


def resolved_wheels(requirement: str, report: Path) -> list[tuple[str, str]]:
    """``(name, url)`` of every distribution pip would install or upgrade for ``requirement`` (not the project
    itself): all of them in a new environment, none in an up-to-date one."""
    subprocess.run([*PIP, "install", "-q", "--dry-run", "--no-build-isolation", "--report", str(report),
                    "-e", requirement], check=True, cwd=ROOT)  # what is missing or outdated: nothing when up to date
    items = json.loads(report.read_text())["install"]
    return [(i["metadata"]["name"], i["download_info"]["url"]) for i in items
            if i["metadata"]["name"].lower() != "mammobench"]


def install_side_by_side(groups: list[list[str]], folder: Path) -> None:
    """Run one ``pip install --no-deps -r`` per non-empty group at the same time; raise if any fails."""
    procs = []
    for n, urls in enumerate(g for g in groups if g):
        listing = folder / f"group{n}.txt"
        listing.write_text("\n".join(urls) + "\n")
        procs.append(subprocess.Popen([*PIP, "install", "-q", "--no-deps", "-r", str(listing)]))
    failed = sum(p.wait() != 0 for p in procs)
    if failed:
        raise RuntimeError(f"{failed} of {len(procs)} pip processes failed")


def main(argv: list[str]) -> int:
    extras = argv[0] if argv else "dev"
    requirement = f".[{extras}]"
    try:
        with tempfile.TemporaryDirectory(prefix="mammobench-install-") as tmp:
            wheels = resolved_wheels(requirement, Path(tmp) / "report.json")
            install_side_by_side(list(split_wheels(wheels)), Path(tmp))
        # the project itself; setuptools' build warnings (hundreds of lines) are shown only when it fails
        project = subprocess.run([*PIP, "install", "-q", "--no-deps", "--no-build-isolation", "-e", "."], cwd=ROOT,
                                 capture_output=True, text=True)
        if project.returncode:
            raise RuntimeError(f"installing the project: {(project.stdout + project.stderr)[-3000:]}")
        check = subprocess.run([*PIP, "check"], cwd=ROOT, capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"pip check: {check.stdout.strip()}")
    except (subprocess.CalledProcessError, RuntimeError, OSError, KeyError, ValueError) as err:
        print(f"install_env: side-by-side install failed ({err}); installing the plain way", file=sys.stderr)
        return subprocess.run([*PIP, "install", "-q", "-e", requirement], cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
