"""Loading a dataset by adapter name: the one entry point of the CLI and the pipeline.

:func:`load_dataset` finds the dataset root near the folder given, runs the adapter, rejects the training
rows of patients who are also in an official test part (:func:`~mammobench.data.splits.split_conflicts`),
and — when a split seed is given — assigns the same patient-level splits that ``data inspect``,
``data prepare`` and ``mammobench run`` all show (:func:`~mammobench.data.splits.assign_splits`), recording
where each part comes from in ``result.splits``.

Example:
    >>> # res = load_dataset("virtual_cohort", "cohorts/default", split_seed=0)
    >>> # res.manifest, res.rejects, res.flow, res.splits
"""
from __future__ import annotations

import inspect
import os

import pandas as pd

from mammobench.data.adapters import register_builtin
from mammobench.data.adapters.base import AdapterResult
from mammobench.data.splits import assign_splits, check_no_patient_overlap, split_conflicts, split_summary
from mammobench.errors import ConfigError, DataError
from mammobench.registry import ADAPTERS

#: rejected share of metadata rows above which ``data inspect`` warns
REJECT_WARNING_SHARE = 0.05


def get_adapter(name: str, **options):
    """Instantiate the adapter registered as ``name`` (or given as ``package.module:Class``).

    Raises:
        RegistryError: unknown adapter. ConfigError: an option the adapter does not take (with the valid ones).
    """
    register_builtin()
    cls = ADAPTERS.get(name)
    if not isinstance(cls, type):
        return cls
    params = inspect.signature(cls.__init__).parameters
    valid = [p for p in params if p != "self" and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    unknown = sorted(set(options) - set(valid))
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        raise ConfigError(f"adapter {name!r} does not take option(s) {unknown}; valid options: {valid}")
    return cls(**options)


def _reject_split_conflicts(result: AdapterResult) -> None:
    clash = split_conflicts(result.manifest)
    if clash.empty:
        return
    rows = [{"path": r["image_path"], "image_id": r["image_id"], "stage": "split", "patient_id": r["patient_id"],
             "exam_id": r["exam_id"], "reason": f"patient {r['patient_id']!r} is also in the official test part: this "
             f"{r['split']} image is not used, so the test part stays exactly the official one"}
            for r in clash.to_dict("records")]
    result.rejects = pd.concat([result.rejects, pd.DataFrame(rows)], ignore_index=True)
    result.manifest = result.manifest.drop(index=clash.index).reset_index(drop=True)
    m = result.manifest
    counts = {"n_rows": int(len(m)), "n_patients": int(m["patient_id"].nunique()),
              "n_exams": int(m["exam_id"].nunique()), "n_images": int(len(m))}
    at = next((i for i, s in enumerate(result.flow) if s["stage"] == "included"), len(result.flow))
    result.flow.insert(at, {"stage": "after split checks", **counts, "excluded": len(rows),
                            "reason": "patient in both official parts: its training images are not used"})
    if at < len(result.flow) - 1:
        result.flow[at + 1].update(counts)


def load_dataset(adapter_name: str, root: str | os.PathLike, *, split_seed: int | None = None,
                 val_fraction: float = 0.15, test_fraction: float = 0.2, verify: str = "header",
                 require_labels: bool = False, **options) -> AdapterResult:
    """Read the dataset at (or near) ``root`` with the named adapter; optionally assign patient-level splits.

    Args:
        adapter_name: registered adapter name (``mammobench data adapters`` lists them).
        root: the dataset folder as downloaded (the root is also found one level too high or too low).
        split_seed: when given, :func:`assign_splits` is applied (a given split is kept; val carved from train).
        val_fraction: see :func:`assign_splits`.
        test_fraction: see :func:`assign_splits`.
        verify: per-file check: ``none``, ``exists`` or ``header`` (see ``mammobench.data.adapters.checks``).
        require_labels: refuse an unlabelled dataset (a task that trains or evaluates needs labels).
        **options: adapter options (``mapping=`` for ``manifest``; ``labels=``, ``key=``, ``label_column=`` … for
            ``dicom``).

    Returns:
        :class:`AdapterResult` with ``manifest``, ``rejects`` (path, image_id, reason, stage), ``notes``,
        ``flow``, ``warnings`` and ``splits``.

    Raises:
        RegistryError: unknown adapter. ConfigError: unknown option. DataError: missing tables/columns (names
        the file, where the layout is documented and the command to check it), or labels required but absent.
    """
    adapter = get_adapter(adapter_name, verify=verify, **options)
    result = adapter.load(root)
    if require_labels and not result.labelled:
        raise DataError(f"{adapter_name}: the dataset at {result.root} was read without labels (no labels file), so "
                        "it can be inspected, prepared, audited and used in reader studies, but this task trains "
                        "and evaluates detectors and needs a label per image; give a labels file (task key "
                        "dataset.options.labels, or --labels with `mammobench data inspect`; see "
                        "tasks/dicom_folder/README.md)")
    _reject_split_conflicts(result)
    if split_seed is not None and len(result.manifest):
        before = result.manifest
        result.manifest = assign_splits(before, seed=split_seed, val_fraction=val_fraction,
                                        test_fraction=test_fraction)
        check_no_patient_overlap(result.manifest)
        result.splits = split_summary(before, result.manifest, seed=split_seed)
    rejected = result.rejects.loc[result.rejects["stage"] != "unlisted"]
    if result.n_source_rows and len(rejected) > REJECT_WARNING_SHARE * result.n_source_rows:
        result.warnings.append(f"{len(rejected)} of {result.n_source_rows} metadata rows "
                               f"({len(rejected) / result.n_source_rows:.0%}) were rejected — more than "
                               f"{REJECT_WARNING_SHARE:.0%}; read the reasons below before using this cohort")
    return result
