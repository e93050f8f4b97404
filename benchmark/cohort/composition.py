"""Cohort composition: who is in the virtual trial and in which split (patient-level plan).

The *test* part is balanced over densities A–D (age drawn from p(age | density) by rejection
from the screening-age model); the *training* part follows the age-driven density model with
per-class weights that under-represent dense breasts by default, optionally per-lesion-type weights
(``train_lesion_type_weights``; 0 leaves a type out of training) and a restricted
age range — the subgroup imbalance synthetic augmentation is meant to fix.

Example:
    >>> plans = plan_patients(40, seed=0, composition=CohortComposition())
    >>> sorted({p.split for p in plans})
    ['test', 'training']
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mammobench.errors import ConfigError
from mammobench.simulator import calibration as cal


@dataclass(frozen=True)
class CohortComposition:
    """How the virtual cohort is composed (all fractions are of patients)."""

    test_fraction: float = 0.3
    finding_fraction: float = 0.5
    malignant_fraction: float = 0.5
    train_density_weights: dict = field(default_factory=lambda: {"A": 1.0, "B": 1.0, "C": 0.4, "D": 0.12})
    train_min_age: int | None = None
    train_max_age: int | None = None
    train_lesion_type_weights: dict | None = None
    test_balance_lesion_types: bool = True
    population: str = "bcsc"

    def __post_init__(self) -> None:
        for name in ("test_fraction", "finding_fraction", "malignant_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"CohortComposition.{name}={value} must be between 0 and 1")
        weights = self.train_density_weights
        if sorted(weights) != list(cal.DENSITY_CLASSES) or any(w < 0 for w in weights.values()) or \
                sum(weights.values()) <= 0:
            raise ConfigError(f"CohortComposition.train_density_weights={weights} needs non-negative weights "
                              "for each of A, B, C, D (not all zero)")
        lesion_weights = self.train_lesion_type_weights
        if lesion_weights is not None and (
                not isinstance(lesion_weights, dict) or not set(lesion_weights) <= set(cal.LESION_TYPES)
                or any(not isinstance(w, (int, float)) or w < 0 for w in lesion_weights.values())
                or sum(lesion_weights.get(k, 1.0) for k in cal.LESION_TYPES) <= 0):
            raise ConfigError(f"CohortComposition.train_lesion_type_weights={lesion_weights} needs non-negative "
                              f"weights keyed by lesion type ({', '.join(cal.LESION_TYPES)}; a missing type "
                              "keeps weight 1), not all zero")
        lo, hi = self.train_min_age or cal.SCREENING_AGE_RANGE[0], self.train_max_age or cal.SCREENING_AGE_RANGE[1]
        if lo > hi:
            raise ConfigError(f"CohortComposition: train_min_age={lo} > train_max_age={hi}")
        if self.population not in cal.POPULATION_SHIFT:
            raise ConfigError(f"CohortComposition.population={self.population!r}; use one of {sorted(cal.POPULATION_SHIFT)}")

    def to_dict(self) -> dict:
        """Plain-data form (for cohort.json)."""
        return asdict(self)


@dataclass(frozen=True)
class PatientPlan:
    """Patient-level draws; the per-image specs are derived from these by the writer."""

    index: int
    split: str            # training | test
    age: int
    density: str
    lesion_type: str      # none | mass | …
    pathology: str        # normal | benign | malignant
    lesion_side: str      # L | R | ''


def _age_given_density(rng, density: str, population: str) -> int:
    lo, hi = cal.SCREENING_AGE_RANGE
    cap = max(cal.density_probabilities(a, population)[density] for a in range(lo, hi + 1))
    while True:
        age = int(rng.integers(lo, hi + 1))
        if rng.random() * cap <= cal.density_probabilities(age, population)[density]:
            return age


def _train_age_density(rng, comp: CohortComposition) -> tuple[int, str]:
    lo = comp.train_min_age or cal.SCREENING_AGE_RANGE[0]
    hi = comp.train_max_age or cal.SCREENING_AGE_RANGE[1]
    age = int(rng.integers(lo, hi + 1))
    probs = cal.density_probabilities(age, comp.population)
    weighted = np.asarray([probs[d] * comp.train_density_weights[d] for d in cal.DENSITY_CLASSES])
    if weighted.sum() <= 0:
        weighted = np.asarray([comp.train_density_weights[d] for d in cal.DENSITY_CLASSES], dtype=float)
    return age, cal.DENSITY_CLASSES[int(rng.choice(4, p=weighted / weighted.sum()))]


def _test_lesion_slots(rng, densities: list[str], finding_fraction: float) -> list[str]:
    """Lesion type of each test patient, stratified: within every density class, ``finding_fraction``
    of the patients have a finding and the lesion types take equal shares (± 1), so per-density
    metrics compare like with like (the reference: balanced per density × lesion type stratum)."""
    slots = [""] * len(densities)
    for density in cal.DENSITY_CLASSES:
        members = [k for k, d in enumerate(densities) if d == density]
        n_lesion = int(round(finding_fraction * len(members)))
        start = int(rng.integers(len(cal.LESION_TYPES)))
        kinds = [cal.LESION_TYPES[(start + j) % len(cal.LESION_TYPES)] for j in range(n_lesion)]
        kinds += ["none"] * (len(members) - n_lesion)
        for k, kind in zip(members, rng.permutation(np.asarray(kinds, dtype=object))):
            slots[k] = str(kind)
    return slots


def _lesion(rng, comp: CohortComposition, balanced: bool, slot: str = "") -> tuple[str, str, str]:
    if slot == "none" or (not slot and rng.random() >= comp.finding_fraction):
        return "none", "normal", ""
    if slot:
        lesion_type = slot
    elif balanced:
        lesion_type = cal.LESION_TYPES[int(rng.integers(len(cal.LESION_TYPES)))]
    else:
        keys = list(cal.LESION_PREVALENCE)
        p = np.asarray([cal.LESION_PREVALENCE[k] for k in keys])
        if comp.train_lesion_type_weights is not None:  # only then renormalised: default cohorts stay bit-identical
            p = p * np.asarray([float(comp.train_lesion_type_weights.get(k, 1.0)) for k in keys])
            p = p / p.sum()
        lesion_type = keys[int(rng.choice(len(keys), p=p))]
    pathology = "malignant" if rng.random() < comp.malignant_fraction else "benign"
    return lesion_type, pathology, "L" if rng.random() < 0.5 else "R"


def plan_patients(n_patients: int, *, seed: int, composition: CohortComposition) -> list[PatientPlan]:
    """Deterministic patient plan: split, age, density and lesion of every patient.

    Test patients are the first ``round(test_fraction·n)`` of a seeded permutation and cycle
    through densities A–D, so each class gets ``n_test // 4`` or one more; with
    ``test_balance_lesion_types`` their findings are stratified per density (same share with a
    finding, equal lesion-type shares within it).
    """
    if n_patients < 1:
        raise ConfigError(f"n_patients={n_patients} must be ≥ 1")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xC0407]))
    n_test = int(round(composition.test_fraction * n_patients))
    order = rng.permutation(n_patients)
    test_rank = {int(p): k for k, p in enumerate(order[:n_test])}
    density_cycle = [cal.DENSITY_CLASSES[k % 4] for k in rng.permutation(n_test)] if n_test else []
    lesion_slots = (_test_lesion_slots(rng, density_cycle, composition.finding_fraction)
                    if composition.test_balance_lesion_types and n_test else [""] * n_test)
    plans = []
    for index in range(n_patients):
        prng = np.random.default_rng(np.random.SeedSequence([int(seed), index, 0xA11]))
        if index in test_rank:
            density = density_cycle[test_rank[index]]
            age, split = _age_given_density(prng, density, composition.population), "test"
        else:
            (age, density), split = _train_age_density(prng, composition), "training"
        slot = lesion_slots[test_rank[index]] if split == "test" else ""
        lesion_type, pathology, side = _lesion(prng, composition, False, slot)
        plans.append(PatientPlan(index, split, age, density, lesion_type, pathology, side))
    return plans
