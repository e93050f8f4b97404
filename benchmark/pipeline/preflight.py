"""Checks that need the machine, run by ``mammobench validate`` and before a run writes anything.

The task file's keys and their cross-field rules are checked when it is read
(:mod:`mammobench.pipeline.config`); what needs more than the file is checked here, so that a run
fails in its first second rather than after the cohort, the image cache or an hour of training:

* every named plug-in exists: dataset adapter, detector recipe, each arm's generator;
* ``detector.weights`` is an existing file that loads as a state dict (``torch.load(weights_only=True)``,
  or safetensors) — never unpickled as arbitrary objects;
* the images fit in memory: images × side² × 4 bytes (float32) × (1 + the largest synthetic ratio) ×
  the number of cell worker processes, against this machine's physical memory (:func:`check_memory`;
  with a real dataset the image count is known after ingest, where the run checks again).

Example:
    >>> format_bytes(3 * 2**30)
    '3.0 GiB'
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from mammobench.errors import ConfigError, RegistryError
from mammobench.pipeline.config import TaskConfig
from mammobench.pipeline.profiles import RunSettings

__all__ = ["check_memory", "check_plugins", "format_bytes", "machine_memory", "memory_needed", "resolve_weights"]

MAX_WEIGHTS_BYTES = 4 << 30  # larger than any 2-D detector's state dict


def format_bytes(n: float) -> str:
    """``3221225472 → '3.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_plugins(task: TaskConfig, arms: Sequence[str], *, import_specs: bool = False) -> None:
    """Every adapter, recipe and generator the run names is known (``module:Class`` imported only when asked).

    Raises:
        ConfigError: an unknown name, with the registry's did-you-mean and the known names.
    """
    import mammobench.data.adapters  # noqa: F401  (registers the adapters)
    import mammobench.generators  # noqa: F401
    import mammobench.training  # noqa: F401
    from mammobench.registry import ADAPTERS, DETECTORS, GENERATORS

    for reg, name, key in ((ADAPTERS, task.dataset.adapter, "dataset.adapter"),
                           (DETECTORS, task.detector.recipe, "detector.recipe")):
        if name not in reg:
            raise ConfigError(f"{task.source}: {key}: {reg._unknown_message(name)}")
    for arm in arms:
        if ":" not in arm and arm not in GENERATORS:
            raise ConfigError(f"{task.source}: augmentation.arms: {GENERATORS._unknown_message(arm)}")
        if ":" in arm and import_specs:
            from mammobench.generators import generator_class

            try:
                generator_class(arm)
            except RegistryError as err:
                raise ConfigError(f"--generator {arm}: {err}") from None


def resolve_weights(task: TaskConfig) -> str | None:
    """The absolute path of ``detector.weights`` after checking it loads as a state dict (``None`` if unset).

    Relative paths are resolved against the task file's folder; ``~`` and ``$VARS`` expand.

    Raises:
        ConfigError: missing, not a regular file, too large, or not a state dict of tensors.
    """
    if not task.detector.weights:
        return None
    path = Path(os.path.expandvars(task.detector.weights)).expanduser()
    if not path.is_absolute() and task.source:
        path = Path(task.source).parent / path
    where = f"{task.source}: detector.weights {path}"
    if not path.exists():
        raise ConfigError(f"{where} does not exist; give a local state-dict file (.pt/.pth/.safetensors) or null "
                          "(MammoBench never downloads weights)")
    if not path.is_file():
        raise ConfigError(f"{where} is not a regular file; give a state-dict file (.pt/.pth/.safetensors)")
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise ConfigError(f"{where} is {format_bytes(path.stat().st_size)}, over the {format_bytes(MAX_WEIGHTS_BYTES)} "
                          "limit for detector weights; give a state dict of the detector only")
    from mammobench.training.detectors import read_state_dict

    read_state_dict(path, where=where)
    return str(path.resolve())


def machine_memory() -> int:
    """Physical memory of this machine in bytes."""
    import psutil

    return int(psutil.virtual_memory().total)


def memory_needed(n_images: int, settings: RunSettings, workers: int = 1) -> int:
    """Upper bound of the bytes the cells hold: images × side² × 4 × (1 + largest ratio) × workers."""
    synthetic = max(settings.ratios) if [a for a in settings.arms if a != "none"] else 0.0
    return int(n_images * settings.image_size ** 2 * 4 * (1 + synthetic) * max(1, workers))


def check_memory(n_images: int, settings: RunSettings, *, workers: int = 1, where: str) -> None:
    """Refuse a run whose images cannot fit in this machine's memory (the estimate is in the message).

    Raises:
        ConfigError: naming the estimate, its parts and the machine's memory.
    """
    need, have = memory_needed(n_images, settings, workers), machine_memory()
    if need > have:
        size = settings.image_size
        raise ConfigError(
            f"{where}: profile '{settings.profile}' needs about {format_bytes(need)} of memory ({n_images:,} images "
            f"at {size}×{size} px as float32, plus synthetic images up to ratio {max(settings.ratios):g}, × "
            f"{max(1, workers)} cell worker(s)) but this machine has {format_bytes(have)}; lower n_patients or "
            "image_size (profiles: in the task, or --set), or use fewer --workers")


def images_per_patient() -> int:
    """Images per virtual-cohort patient (R/L × CC/MLO)."""
    from mammobench.cohort.writer import IMAGE_ORDER

    return len(IMAGE_ORDER)


def preflight(task: TaskConfig, settings: RunSettings, *, generators: Sequence[str] = (), workers: int = 1,
              import_specs: bool = False) -> str | None:
    """Every machine-dependent check of a task at resolved settings; returns the resolved weights path.

    Raises:
        ConfigError: an unknown plug-in, unusable weights, or images that cannot fit in memory.
    """
    check_plugins(task, [*settings.arms, *generators], import_specs=import_specs)
    weights = resolve_weights(task)
    if task.dataset.adapter == "virtual_cohort" and not task.dataset.root:
        check_memory(settings.n_patients * images_per_patient(), settings, workers=workers, where=task.source)
    return weights
