"""Calibration numbers of the virtual clinical trial (reference/simulator.md, section 12).

Everything the case sampler draws from lives here as data with its source, so that the tests
can compare sampled frequencies with the published tables:

* density given age: ordinal-probit model fitted to the BCSC 2007–2010 C+D-by-age curve
  (Sprague et al., JNCI 2014), cut-points ``c1 = -1.576, c2 = 0, c3 = 1.096`` (section 12.1);
* volumetric breast density (VBD) per BI-RADS class ("Volpara-like" or "VICTRE-like" presets,
  section 5);
* compressed thickness and breast size coupled to density (VICTRE / Yaffe 2009, section 3);
* lesion-type prevalence among screen-detected cancers (Kayhan et al. 2016, section 12.2);
* lesion sizes (lognormal masses, section 6.1 / 12.3; cluster, distortion, asymmetry extents).

Example:
    >>> probs = density_probabilities(42.0)
    >>> [round(p, 2) for p in probs.values()]
    [0.04, 0.39, 0.39, 0.18]
"""
from __future__ import annotations

import math
from functools import lru_cache

from scipy.stats import norm

from mammobench.errors import ConfigError

DENSITY_CLASSES: tuple[str, ...] = ("A", "B", "C", "D")

#: BCSC share of heterogeneously or extremely dense (C+D) per 5-year age group, lower bound → share.
BCSC_DENSE_SHARE_BY_AGE: dict[int, float] = {
    40: 0.57, 45: 0.55, 50: 0.46, 55: 0.38, 60: 0.33, 65: 0.31, 70: 0.26, 75: 0.28, 80: 0.28, 85: 0.28,
}
#: Ordinal-probit cut-points separating A | B | C | D on the latent density scale.
DENSITY_CUTPOINTS: tuple[float, float, float] = (-1.576, 0.0, 1.096)
#: Latent mean shift per population (Asian screening cohorts are denser; section 12.1).
POPULATION_SHIFT: dict[str, float] = {"bcsc": 0.0, "asian": 0.75}
#: Screening ages drawn when the age is not given (uniform integer years, inclusive).
SCREENING_AGE_RANGE: tuple[int, int] = (40, 79)

#: VBD (fraction, excluding skin) per class: uniform ranges ("volpara") or fixed values ("victre").
VBD_PRESETS: dict[str, dict[str, tuple[float, float]]] = {
    "volpara": {"A": (0.02, 0.05), "B": (0.05, 0.09), "C": (0.09, 0.20), "D": (0.20, 0.45)},
    "victre": {"A": (0.05, 0.05), "B": (0.15, 0.15), "C": (0.34, 0.34), "D": (0.60, 0.60)},
}
#: Mean compressed thickness (mm) per class, sd 9 mm, truncated to [20, 90] (section 3).
THICKNESS_MEAN_MM: dict[str, float] = {"A": 60.0, "B": 55.0, "C": 48.0, "D": 42.0}
THICKNESS_SD_MM = 9.0
THICKNESS_RANGE_MM: tuple[float, float] = (20.0, 90.0)
#: Median breast-size scale per class (denser ⇔ smaller; VICTRE breastHeight 110 → 72 mm).
BREAST_SCALE_MEDIAN: dict[str, float] = {"A": 1.0, "B": 0.97, "C": 0.90, "D": 0.82}
BREAST_SCALE_SIGMA_LOG = 0.12

LESION_TYPES: tuple[str, ...] = ("mass", "calcification", "architectural_distortion", "asymmetry")
#: Kayhan et al. 2016 (65 screen-detected cancers): mass 47.7, calcification 30.8, focal asymmetry
#: 16.9, architectural distortion 3.1 (skin thickening 1.5 % dropped and the rest renormalised).
LESION_PREVALENCE_RAW: dict[str, float] = {
    "mass": 0.477, "calcification": 0.308, "asymmetry": 0.169, "architectural_distortion": 0.031,
}
LESION_PREVALENCE: dict[str, float] = {
    k: v / sum(LESION_PREVALENCE_RAW.values()) for k, v in LESION_PREVALENCE_RAW.items()
}
#: Share of malignant lesions among lesion cases when the pathology is not given (enriched trial).
MALIGNANT_FRACTION = 0.5

#: Lognormal mass diameters (median mm, geometric SD), truncated to MASS_SIZE_RANGE_MM.
#: Malignant: screen-detected invasive cancers (median 14.0, GSD 1.93); benign: median 11 (unverified).
MASS_SIZE_LOGNORMAL: dict[str, tuple[float, float]] = {"malignant": (14.0, 1.93), "benign": (11.0, 1.6)}
MASS_SIZE_RANGE_MM: tuple[float, float] = (4.0, 50.0)
#: Uniform extents (mm) of the other lesion types (cluster region, distortion lines, asymmetry blob).
EXTENT_RANGE_MM: dict[str, tuple[float, float]] = {
    "calcification": (5.0, 15.0), "architectural_distortion": (15.0, 40.0), "asymmetry": (15.0, 40.0),
}
#: Shapes by pathology (masses) and calcification morphologies by pathology.
MASS_SHAPES: dict[str, tuple[str, ...]] = {
    "benign": ("round", "oval", "lobulated"), "malignant": ("irregular", "spiculated", "lobulated"),
}
MASS_MARGINS: dict[str, tuple[str, ...]] = {
    "benign": ("circumscribed", "circumscribed", "obscured"), "malignant": ("indistinct", "spiculated", "microlobulated"),
}
CALC_MORPHOLOGIES: dict[str, tuple[str, ...]] = {
    "benign": ("punctate", "coarse", "round"), "malignant": ("pleomorphic", "fine_linear", "amorphous"),
}


def latent_density_mean(age: float, population: str = "bcsc") -> float:
    """Mean of the latent density score at ``age``: Φ⁻¹ of the BCSC C+D share of its age group.

    Ages below 40 use the 40–44 group and ages ≥ 85 the last group.

    Example:
        >>> round(latent_density_mean(57), 3)
        -0.305
    """
    if population not in POPULATION_SHIFT:
        raise ConfigError(f"population {population!r} is unknown; use one of {sorted(POPULATION_SHIFT)}")
    if not math.isfinite(age):
        raise ConfigError(f"age must be a finite number of years, got {age!r}")
    groups = sorted(BCSC_DENSE_SHARE_BY_AGE)
    lower = max([g for g in groups if g <= age] or [groups[0]])
    share = BCSC_DENSE_SHARE_BY_AGE[lower]
    return float(norm.ppf(share)) + POPULATION_SHIFT[population]


def density_probabilities(age: float, population: str = "bcsc") -> dict[str, float]:
    """P(density class | age) from the ordinal-probit model.

    Example:
        >>> round(sum(density_probabilities(70).values()), 6)
        1.0
    """
    return dict(_density_probabilities(float(age), population))


@lru_cache(maxsize=4096)
def _density_probabilities(age: float, population: str) -> tuple:
    mu = latent_density_mean(age, population)
    c1, c2, c3 = DENSITY_CUTPOINTS
    cdf = [float(norm.cdf(c - mu)) for c in (c1, c2, c3)]
    probs = [cdf[0], cdf[1] - cdf[0], cdf[2] - cdf[1], 1.0 - cdf[2]]
    return tuple(zip(DENSITY_CLASSES, probs))


def truncated_lognormal_cdf(x: float, median: float, gsd: float, lo: float, hi: float) -> float:
    """CDF of a lognormal(median, GSD) truncated to [lo, hi] (used by the calibration tests).

    Example:
        >>> round(truncated_lognormal_cdf(50.0, 14.0, 1.93, 4.0, 50.0), 6)
        1.0
    """
    s = math.log(gsd)

    def base(v: float) -> float:
        return float(norm.cdf(math.log(v / median) / s))

    x = min(max(x, lo), hi)
    return (base(x) - base(lo)) / (base(hi) - base(lo))
