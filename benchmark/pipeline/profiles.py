"""Run profiles: how big a run is (smoke for tests, quick for the default job, full for papers).

A profile scales a task without changing what it measures: cohort size, image size, epochs,
seeds, bootstrap resamples, arms and ratios. A task may override any of these per profile under
its ``profiles:`` key; values absent from both fall back to the task's own settings.

Example:
    >>> settings = profile_settings("smoke")
    >>> settings["n_patients"], settings["image_size"], settings["epochs"]
    (40, 64, 1)
"""
from __future__ import annotations

from typing import Any

from mammobench.errors import ConfigError

#: profile name -> settings; ``None`` means "use the task's own value"
PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"n_patients": 40, "cohort_size": 128, "image_size": 64, "epochs": 1, "seeds": [0, 1],
              "n_boot": 200, "arms": None, "ratios": [0.5], "batch_size": 32, "min_group_size": 5,
              "encoder_epochs": 2, "audit": {"n_boot": 100, "n_boot_fd": 5, "ms_ssim_pairs": 20}},
    "quick": {"n_patients": 480, "cohort_size": 256, "image_size": 96, "epochs": 4, "seeds": [0, 1, 2],
              "n_boot": 1000, "arms": None, "ratios": [0.5], "batch_size": 64, "min_group_size": 20,
              "encoder_epochs": 6, "audit": {"n_boot": 200, "n_boot_fd": 30, "ms_ssim_pairs": 60}},
    "full": {"n_patients": 4000, "cohort_size": 768, "image_size": 256, "epochs": 20, "seeds": [0, 1, 2, 3, 4],
             "n_boot": 2000, "arms": None, "ratios": [0.25, 0.5, 1.0], "batch_size": 64, "min_group_size": 30,
             "encoder_epochs": 15, "audit": {}},
}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "n_patients": int, "cohort_size": int, "image_size": int, "epochs": int, "seeds": list, "n_boot": int,
    "arms": list, "ratios": list, "batch_size": int, "min_group_size": int, "encoder_epochs": int,
    "audit": dict,
}


def check_overrides(overrides: Any, *, where: str) -> dict[str, Any]:
    """Validate a profile-override mapping (keys and types).

    Raises:
        ConfigError: unknown key or wrong type, naming ``where`` and the valid keys.
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a mapping of profile settings, got {type(overrides).__name__}")
    for key, value in overrides.items():
        if key not in _TYPES:
            raise ConfigError(f"{where}: unknown key '{key}'; valid keys: {sorted(_TYPES)}")
        if isinstance(value, bool) or not isinstance(value, _TYPES[key]):
            raise ConfigError(f"{where}.{key}: expected {_TYPES[key].__name__}, got {value!r}")
        if isinstance(value, int) and value <= 0:
            raise ConfigError(f"{where}.{key}: must be positive, got {value}")
    return dict(overrides)


def profile_settings(name: str, task_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings of profile ``name``, with a task's overrides for that profile applied.

    Raises:
        ConfigError: unknown profile name (the valid names are listed).
    """
    if name not in PROFILES:
        raise ConfigError(f"unknown profile '{name}'; valid profiles: {list(PROFILES)}")
    settings = dict(PROFILES[name])
    settings.update(check_overrides((task_overrides or {}).get(name), where=f"profiles.{name}"))
    return settings
