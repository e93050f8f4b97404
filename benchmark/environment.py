"""The one record of what ran: the code's version and git commit, package versions, platform and device.

``result.json`` (``benchmark`` and ``environment`` blocks), the signed manifest (``signer``) and the perf
record (``machine``) all take these facts from here, so one run records one commit in one format.

The commit is that of the checkout mammobench is imported from (an editable install of a clone), with
``-dirty`` when tracked files differ from it. An installed wheel has no checkout: the commit is ``""``
and the package version identifies the code.

Example:
    >>> env = environment("cpu")
    >>> env["device"], "numpy" in env["packages"]
    ('cpu', True)
    >>> sha = git_sha()
    >>> sha == "" or len(sha.removesuffix("-dirty")) == 40
    True
"""
from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata, resources
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "code_version", "environment", "git_sha", "package_versions", "source_checkout"]

#: distributions whose versions every record carries (missing ones are left out)
PACKAGES = ("mammobench", "numpy", "scipy", "pandas", "scikit-learn", "statsmodels", "fairlearn", "torch",
            "torchvision", "timm", "torchmetrics", "matplotlib", "pydicom", "jinja2", "cryptography", "pyyaml",
            "ray")


def source_checkout() -> Path | None:
    """The repository folder when mammobench runs from a clone (``benchmark/`` is the package), else ``None``.

    Example:
        >>> root = source_checkout()
        >>> root is None or (root / "pyproject.toml").is_file()
        True
    """
    package = resources.files("mammobench")
    if not isinstance(package, Path) or package.name != "benchmark":
        return None  # an installed wheel (…/site-packages/mammobench) belongs to no checkout
    root = package.parent
    return root if (root / "pyproject.toml").is_file() else None


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                          check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


@functools.lru_cache(maxsize=1)
def git_sha() -> str:
    """The checkout's commit, ``-dirty`` when tracked files changed; ``""`` outside a checkout or without git.

    Computed once per process: the commit of the code this process imported.
    """
    root = source_checkout()
    if root is None:
        return ""
    try:
        sha = _git(root, "rev-parse", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no") if sha else ""
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{sha}-dirty" if dirty else sha


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """``{distribution: version}`` for the installed ones among ``names``.

    Example:
        >>> package_versions(("numpy", "no-such-package-xyz")).keys() == {"numpy"}
        True
    """
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def code_version() -> dict[str, str]:
    """``{"version", "git_sha"}`` of mammobench itself (``result.json["benchmark"]``)."""
    return {"version": package_versions(("mammobench",)).get("mammobench", ""), "git_sha": git_sha()}


def environment(device: str) -> dict[str, Any]:
    """Python, platform, CPU count, device (with the GPU's name on CUDA) and package versions."""
    versions = package_versions()
    env = {"python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine(),
           "device": device, "cpu_count": os.cpu_count() or 1, "packages": versions,
           "torch": versions.get("torch", ""), "timm": versions.get("timm", "")}
    if str(device).startswith("cuda"):
        import torch

        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env
