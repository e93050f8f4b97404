"""Simulated vendors and sites: the "for presentation" style each site applies (section 9).

A *vendor* fixes ranges for the processing parameters, the stored bit depth and the photometric
interpretation; a *site* draws its own fixed parameters from its vendor's ranges (seeded by the
site name, so a site looks the same in every cohort); each image adds a small jitter. Vendor
names are fictitious (``SYNTH …``) so no result can be mistaken for a real device.

Example:
    >>> site_params("Site 3")["vendor"] == SITES["Site 3"]
    True
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from mammobench.errors import ConfigError


@dataclass(frozen=True)
class VendorStyle:
    """Processing ranges of one simulated vendor (uniform ranges, drawn once per site)."""

    name: str
    equalisation: tuple[float, float]     # k of L += k·μ_a·(T0 − T)
    unsharp_gain: tuple[float, float]     # g of L + g·(L − G_σ * L)
    unsharp_sigma_mm: tuple[float, float]
    gamma: tuple[float, float]            # LUT exponent
    bits_stored: int                      # 12, 14 or 16
    photometric: str                      # MONOCHROME2 | MONOCHROME1


VENDORS: dict[str, VendorStyle] = {
    v.name: v for v in (
        VendorStyle("SYNTH Alpha", (0.8, 1.0), (0.6, 1.2), (3.0, 6.0), (0.8, 1.0), 12, "MONOCHROME2"),
        VendorStyle("SYNTH Beta", (0.6, 0.8), (0.2, 0.6), (6.0, 10.0), (1.0, 1.3), 14, "MONOCHROME2"),
        VendorStyle("SYNTH Gamma", (0.7, 0.9), (1.0, 1.5), (2.0, 4.0), (0.7, 0.9), 16, "MONOCHROME2"),
        VendorStyle("SYNTH Delta", (0.6, 1.0), (0.3, 0.9), (4.0, 8.0), (1.1, 1.4), 12, "MONOCHROME1"),
    )
}
#: Simulated acquisition sites → vendor (two sites share a vendor to separate site from vendor).
SITES: dict[str, str] = {
    "Site 1": "SYNTH Alpha", "Site 2": "SYNTH Alpha", "Site 3": "SYNTH Beta",
    "Site 4": "SYNTH Gamma", "Site 5": "SYNTH Delta", "Site 6": "SYNTH Beta",
}


def sites_of_vendor(vendor: str) -> list[str]:
    """The simulated sites using ``vendor``.

    Example:
        >>> sites_of_vendor("SYNTH Gamma")
        ['Site 4']
    """
    if vendor not in VENDORS:
        raise ConfigError(f"vendor {vendor!r} is unknown; use one of {sorted(VENDORS)}")
    return [site for site, v in SITES.items() if v == vendor]


def site_params(site: str) -> dict:
    """The fixed processing parameters of a site (drawn from its vendor's ranges, seeded by name).

    Example:
        >>> site_params("Site 1") == site_params("Site 1")
        True
    """
    if site not in SITES:
        raise ConfigError(f"site {site!r} is unknown; use one of {sorted(SITES)}")
    style = VENDORS[SITES[site]]
    rng = np.random.default_rng(zlib.crc32(site.encode("utf-8")))
    draw = {
        "equalisation": style.equalisation, "unsharp_gain": style.unsharp_gain,
        "unsharp_sigma_mm": style.unsharp_sigma_mm, "gamma": style.gamma,
    }
    params = {k: float(rng.uniform(*rng_range)) for k, rng_range in draw.items()}
    params.update(vendor=style.name, bits_stored=style.bits_stored, photometric=style.photometric)
    return params


def image_params(site: str, rng: np.random.Generator) -> dict:
    """Per-image processing parameters: the site's values with a ±5 % jitter.

    Example:
        >>> p = image_params("Site 2", np.random.default_rng(0))
        >>> p["photometric"]
        'MONOCHROME2'
    """
    params = site_params(site)
    for key in ("equalisation", "unsharp_gain", "unsharp_sigma_mm", "gamma"):
        params[key] = float(params[key] * rng.uniform(0.95, 1.05))
    return params
