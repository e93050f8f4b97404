"""The case specification and the calibrated case sampler.

:class:`CaseSpec` is everything the physics generator conditions on. :func:`sample_case` draws
the fields that are not given from the calibrated model (reference/simulator.md, sections 3 and
12): age → density (ordinal probit, 12.1) → VBD, compressed thickness and breast size (coupled)
→ lesion type (prevalence, 12.2), pathology, size (12.3) and shape → site and vendor. Given
fields are honoured exactly.

Example:
    >>> import numpy as np
    >>> spec = sample_case(np.random.default_rng(0), density="D", lesion_type="mass")
    >>> spec.density, spec.lesion_type, spec.pathology in ("benign", "malignant")
    ('D', 'mass', True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from mammobench.errors import ConfigError
from mammobench.simulator import calibration as cal
from mammobench.simulator.vendors import SITES, VENDORS, sites_of_vendor

VIEWS = ("CC", "MLO")
LATERALITIES = ("L", "R")
SPEC_LESION_TYPES = ("none",) + cal.LESION_TYPES
PATHOLOGIES = ("normal", "benign", "malignant")


@dataclass(frozen=True)
class CaseSpec:
    """One simulated image's case: patient, breast, view, lesion and acquisition site.

    ``lesion_size_mm`` is the mass diameter or the extent of a calcification cluster, distortion
    or asymmetry (0 for normal cases); ``lesion_shape`` is the mass shape or the calcification
    morphology; ``lesion_margin`` the mass margin ('' otherwise).
    """

    age: int
    density: str
    vbd: float
    view: str
    laterality: str
    lesion_type: str = "none"
    pathology: str = "normal"
    lesion_size_mm: float = 0.0
    lesion_shape: str = ""
    lesion_margin: str = ""
    compressed_thickness_mm: float = 50.0
    breast_scale: float = 1.0
    vendor: str = "SYNTH Alpha"
    site: str = "Site 1"
    population: str = "bcsc"

    def __post_init__(self) -> None:
        _check_choice("density", self.density, cal.DENSITY_CLASSES)
        _check_choice("view", self.view, VIEWS)
        _check_choice("laterality", self.laterality, LATERALITIES)
        _check_choice("lesion_type", self.lesion_type, SPEC_LESION_TYPES)
        _check_choice("pathology", self.pathology, PATHOLOGIES)
        _check_choice("site", self.site, tuple(SITES))
        if SITES[self.site] != self.vendor:
            raise ConfigError(f"CaseSpec: site {self.site!r} uses vendor {SITES[self.site]!r}, not {self.vendor!r}")
        if (self.lesion_type == "none") != (self.pathology == "normal"):
            raise ConfigError(
                f"CaseSpec: lesion_type {self.lesion_type!r} with pathology {self.pathology!r}; "
                "a normal case has lesion_type 'none' and every lesion is 'benign' or 'malignant'")
        if not (0.0 < self.vbd < 1.0 and 10 <= self.age <= 110 and self.compressed_thickness_mm > 0):
            raise ConfigError(f"CaseSpec: vbd={self.vbd} must be in (0, 1), age={self.age} in [10, 110], "
                              f"compressed_thickness_mm={self.compressed_thickness_mm} > 0")
        if self.lesion_type != "none" and not self.lesion_size_mm > 0:
            raise ConfigError(f"CaseSpec: a {self.lesion_type} needs lesion_size_mm > 0")


def _check_choice(name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"CaseSpec: {name}={value!r} is not valid; use one of {list(allowed)}")


def _pick(rng: np.random.Generator, options: dict[str, float] | tuple) -> str:
    if isinstance(options, dict):
        keys = list(options)
        p = np.asarray([options[k] for k in keys], dtype=float)
        return keys[int(rng.choice(len(keys), p=p / p.sum()))]
    return options[int(rng.integers(len(options)))]


def sample_lesion_size(rng: np.random.Generator, lesion_type: str, pathology: str) -> float:
    """Draw a lesion size (mm): truncated lognormal masses, uniform extents otherwise.

    Example:
        >>> 4.0 <= sample_lesion_size(np.random.default_rng(1), "mass", "malignant") <= 50.0
        True
    """
    if lesion_type == "none":
        return 0.0
    if lesion_type == "mass":
        median, gsd = cal.MASS_SIZE_LOGNORMAL[pathology]
        lo, hi = cal.MASS_SIZE_RANGE_MM
        # inverse-CDF sampling of the truncated lognormal (no rejection loop, exact)
        s, unit = math.log(gsd), NormalDist()
        u_lo, u_hi = unit.cdf(math.log(lo / median) / s), unit.cdf(math.log(hi / median) / s)
        u = rng.uniform(u_lo, u_hi)
        return float(median * math.exp(s * unit.inv_cdf(u)))
    return float(rng.uniform(*cal.EXTENT_RANGE_MM[lesion_type]))


def _sample_lesion(rng, lesion_type, pathology) -> tuple[str, str, float, str, str]:
    if lesion_type is None:
        lesion_type = "none" if pathology == "normal" else _pick(rng, cal.LESION_PREVALENCE)
    if pathology is None:
        pathology = "normal" if lesion_type == "none" else (
            "malignant" if rng.random() < cal.MALIGNANT_FRACTION else "benign")
    if pathology == "normal" or lesion_type == "none":
        return lesion_type, pathology, 0.0, "", ""
    size = sample_lesion_size(rng, lesion_type, pathology)
    if lesion_type == "mass":
        return lesion_type, pathology, size, _pick(rng, cal.MASS_SHAPES[pathology]), _pick(rng, cal.MASS_MARGINS[pathology])
    if lesion_type == "calcification":
        return lesion_type, pathology, size, _pick(rng, cal.CALC_MORPHOLOGIES[pathology]), ""
    return lesion_type, pathology, size, "", ""


def _sample_site(rng: np.random.Generator, vendor: str | None) -> tuple[str, str]:
    sites = sites_of_vendor(vendor) if vendor is not None else list(SITES)
    site = _pick(rng, tuple(sites))
    return SITES[site], site


def sample_case(rng: np.random.Generator, *, age: int | None = None, density: str | None = None,
                lesion_type: str | None = None, pathology: str | None = None, view: str | None = None,
                laterality: str | None = None, vendor: str | None = None, population: str = "bcsc",
                vbd_preset: str = "volpara") -> CaseSpec:
    """Draw a :class:`CaseSpec`; given fields are kept, the rest come from the calibrated model.

    Args:
        rng: the only source of randomness.
        age, density, lesion_type, pathology, view, laterality, vendor: fixed values, or ``None``
            to draw them (density given age by the ordinal-probit model of section 12.1).
        population: ``'bcsc'`` (US screening) or ``'asian'`` (denser latent mean).
        vbd_preset: ``'volpara'`` or ``'victre'`` VBD ranges per class.

    Example:
        >>> spec = sample_case(np.random.default_rng(3), age=45, view="MLO", laterality="L")
        >>> spec.age, spec.view
        (45, 'MLO')
    """
    if vbd_preset not in cal.VBD_PRESETS:
        raise ConfigError(f"vbd_preset {vbd_preset!r} is unknown; use one of {sorted(cal.VBD_PRESETS)}")
    if vendor is not None and vendor not in VENDORS:
        raise ConfigError(f"vendor {vendor!r} is unknown; use one of {sorted(VENDORS)}")
    if age is None:
        age = int(rng.integers(cal.SCREENING_AGE_RANGE[0], cal.SCREENING_AGE_RANGE[1] + 1))
    if density is None:
        density = _pick(rng, cal.density_probabilities(float(age), population))
    _check_choice("density", density, cal.DENSITY_CLASSES)
    vbd = float(rng.uniform(*cal.VBD_PRESETS[vbd_preset][density]))
    lo, hi = cal.THICKNESS_RANGE_MM
    thickness = float(np.clip(rng.normal(cal.THICKNESS_MEAN_MM[density], cal.THICKNESS_SD_MM), lo, hi))
    scale = float(cal.BREAST_SCALE_MEDIAN[density] * math.exp(rng.normal(0.0, cal.BREAST_SCALE_SIGMA_LOG)))
    view = view if view is not None else _pick(rng, VIEWS)
    laterality = laterality if laterality is not None else _pick(rng, LATERALITIES)
    lesion_type, pathology, size, shape, margin = _sample_lesion(rng, lesion_type, pathology)
    vendor, site = _sample_site(rng, vendor)
    return CaseSpec(age=int(age), density=density, vbd=vbd, view=view, laterality=laterality,
                    lesion_type=lesion_type, pathology=pathology, lesion_size_mm=size, lesion_shape=shape,
                    lesion_margin=margin, compressed_thickness_mm=thickness, breast_scale=float(np.clip(scale, 0.6, 1.3)),
                    vendor=vendor, site=site, population=population)
