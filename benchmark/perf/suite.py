"""The benchmarks of ``mammobench perf``: what each runs, at which size, and which figures it reports.

Each :class:`Benchmark` wraps a measurement function owned by the module it measures and turns its
result into figure records ``{benchmark, figure, value, unit, baseline, ratio, higher_is_better}``.
Sizes come in four scales: ``default`` (the whole suite in a few minutes on 2 CPU cores),
``selected`` (used when a benchmark is named with ``--only``; the bootstrap then runs the issue's
acceptance configuration, fairlearn with B = 1000 on 10,000 cases), ``ci`` (the ratio check that
``make test`` runs against the committed ``ci`` record: only the benchmarks of
:data:`CI_BENCHMARKS`, sized so that each ratio is timed over tenths of a
second, not milliseconds) and ``tiny`` (tests: checks that everything runs).

Example:
    >>> sorted(BENCHMARKS)[:3]
    ['bootstrap', 'cache', 'cgan']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

Figure = dict[str, Any]
CI_BENCHMARKS = ("cache", "detector_training", "bootstrap", "delong")  # the ratio figures `make test` checks (--ci)


def figure(benchmark: str, name: str, value: float, unit: str, *, baseline: str | None = None,
           ratio: float | None = None, higher_is_better: bool = True) -> Figure:
    """One reported number (``ratio`` = ours ÷ baseline speed, > 1 means ours is faster)."""
    return {"benchmark": benchmark, "figure": name, "value": float(value), "unit": unit, "baseline": baseline,
            "ratio": None if ratio is None else float(ratio), "higher_is_better": higher_is_better}


@dataclass(frozen=True)
class Benchmark:
    """A named measurement: ``run(params, workdir) -> details`` and ``figures(details) -> [Figure]``."""

    name: str
    description: str
    run: Callable[[dict, Path], dict]
    figures: Callable[[dict], list[Figure]]
    scales: dict[str, dict] = field(default_factory=dict)
    quick: bool = True          # part of ``--quick-only``

    def params(self, scale: str) -> dict:
        """Parameters for ``scale`` (``selected`` falls back to ``default``)."""
        if scale == "selected" and "selected" not in self.scales:
            scale = "default"
        return dict(self.scales[scale])


def _simulator(p: dict, workdir: Path) -> dict:
    from mammobench.simulator.throughput import throughput

    return throughput(**p)


def _simulator_figures(d: dict) -> list[Figure]:
    tag = f"@{d['size']}px,{d['workers']}w"
    return [figure("simulator", f"images_per_s{tag}", d["images_per_s"], "images/s"),
            figure("simulator", f"cpu_images_per_s{tag}", d["cpu_images_per_s"], "images/s",
                   baseline="workers ÷ mean CPU seconds per image: what idle cores reach; load-insensitive")]


def _cache(p: dict, workdir: Path) -> dict:
    from mammobench.perf.cache_bench import benchmark_cache

    return benchmark_cache(workdir / "cache_bench", **p)


def _cache_figures(d: dict) -> list[Figure]:
    return [figure("cache", "ingest_decode_images_per_s", d["decode_images_per_s"], "images/s"),
            figure("cache", "cache_read_images_per_s", d["cache_images_per_s"], "images/s",
                   baseline="DICOM decode + preprocess every epoch", ratio=d["speedup"]),
            figure("cache", "cache_build_s", d["build_seconds"], "s", higher_is_better=False)]


def _training(p: dict, workdir: Path) -> dict:
    from mammobench.perf.training_bench import bench_detector_training

    return bench_detector_training(**p)


def _training_figures(d: dict) -> list[Figure]:
    base = f"bare forward/backward/AdamW loop, {d['arch']} {d['image_size']}px bs{d['batch_size']}"
    return [figure("detector_training", "harness_images_per_s", d["harness_images_per_s"], "images/s",
                   baseline=base + f" (harness incl. val scoring of {d['n_val']} images/epoch, epoch k scored "
                                   "while k+1 trains)", ratio=d["ratio"]),
            figure("detector_training", "harness_in_turn_images_per_s", d["harness_in_turn_images_per_s"],
                   "images/s", ratio=d["in_turn_ratio"],
                   baseline=base + " (harness, val scored in turn after each epoch: no spare core)"),
            figure("detector_training", "harness_loop_images_per_s", d["harness_loop_images_per_s"], "images/s",
                   baseline=base + " (harness, 2-image val)", ratio=d["loop_ratio"]),
            figure("detector_training", "harness_channels_last_images_per_s",
                   d["harness_channels_last_images_per_s"], "images/s", ratio=d["channels_last_ratio"],
                   baseline=base + " (harness with TrainConfig(channels_last=True), incl. val; opt-in)"),
            figure("detector_training", "bare_images_per_s", d["bare_images_per_s"], "images/s"),
            figure("detector_training", "cpu_time_ratio", d["cpu_ratio"], "bare/harness", ratio=d["cpu_ratio"],
                   baseline="process CPU seconds, bare loop ÷ harness (incl. val); load-insensitive"),
            figure("detector_training", "in_turn_cpu_time_ratio", d["in_turn_cpu_ratio"], "bare/harness",
                   ratio=d["in_turn_cpu_ratio"], baseline="process CPU seconds, bare loop ÷ harness (val in turn)"),
            figure("detector_training", "loop_cpu_time_ratio", d["loop_cpu_ratio"], "bare/harness",
                   ratio=d["loop_cpu_ratio"], baseline="process CPU seconds, bare loop ÷ harness (2-image val)"),
            figure("detector_training", "channels_last_cpu_time_ratio", d["channels_last_cpu_ratio"], "bare/harness",
                   ratio=d["channels_last_cpu_ratio"],
                   baseline="process CPU seconds, bare NCHW loop ÷ harness in channels_last (incl. val)")]


def _lesion_detector(p: dict, workdir: Path) -> dict:
    from mammobench.perf.detection_bench import bench_lesion_detector

    return bench_lesion_detector(**p)


def _lesion_detector_figures(d: dict) -> list[Figure]:
    crop = f", {d['crop']}px crops" if d.get("crop") else ""
    base = f"bare forward/loss/backward/AdamW loop, timm_centernet {d['arch']} {d['image_size']}px{crop} bs{d['batch_size']}"
    return [figure("lesion_detector", "harness_images_per_s", d["harness_images_per_s"], "images/s", ratio=d["ratio"],
                   baseline=base + f" (harness, {d['epochs']} epochs validating on the task's schedule "
                                   f"(every {d['validate_every']}): marks + wAFROC on {d['n_val']} images)"),
            figure("lesion_detector", "harness_every_epoch_images_per_s", d["harness_every_epoch_images_per_s"],
                   "images/s", ratio=d["every_epoch_ratio"],
                   baseline=base + f" (harness validating after every epoch, {d['n_val']} images)"),
            figure("lesion_detector", "harness_loop_images_per_s", d["harness_loop_images_per_s"], "images/s",
                   baseline=base + " (harness, 3-image validation)", ratio=d["loop_ratio"]),
            figure("lesion_detector", "bare_images_per_s", d["bare_images_per_s"], "images/s"),
            figure("lesion_detector", "cpu_time_ratio", d["cpu_ratio"], "bare/harness", ratio=d["cpu_ratio"],
                   baseline="process CPU seconds, bare loop ÷ harness (incl. validation); load-insensitive"),
            figure("lesion_detector", "every_epoch_cpu_time_ratio", d["every_epoch_cpu_ratio"], "bare/harness",
                   ratio=d["every_epoch_cpu_ratio"],
                   baseline="process CPU seconds, bare loop ÷ harness validating after every epoch"),
            figure("lesion_detector", "loop_cpu_time_ratio", d["loop_cpu_ratio"], "bare/harness",
                   ratio=d["loop_cpu_ratio"], baseline="process CPU seconds, bare loop ÷ harness (3-image validation)"),
            figure("lesion_detector", f"inference_images_per_s@{d['image_size']}px", d["inference_images_per_s"],
                   "images/s", baseline=f"predict_marks on {d['n_infer']} whole images, batch {d['batch_size']}")]


def _generator(name: str) -> tuple[Callable, Callable]:
    def run(p: dict, workdir: Path) -> dict:
        from mammobench.perf.generator_bench import bench_generator

        return bench_generator(name, **p)

    def figs(d: dict) -> list[Figure]:
        return [figure(name, "train_images_per_s", d["train_images_per_s"], "patches/s"),
                figure(name, "sample_images_per_s", d["sample_images_per_s"], "images/s"),
                figure(name, "fit_s", d["fit_seconds"], "s", higher_is_better=False)]

    return run, figs


def _bootstrap(p: dict, workdir: Path) -> dict:
    from mammobench.perf.stats_bench import bench_bootstrap

    return bench_bootstrap(**p)


def _bootstrap_figures(d: dict) -> list[Figure]:
    label = f"{d['n_cases']} cases, {d['n_groups']} groups, B={d['n_boot']}"
    return [figure("bootstrap", "ours_s", d["ours_s"], "s", higher_is_better=False,
                   baseline=f"fairlearn MetricFrame(n_boot={d['n_boot']}) {d['fairlearn_s']:.1f}s; {label}",
                   ratio=d["speedup"]),
            figure("bootstrap", "max_ci_bound_diff", d["max_ci_bound_diff"], "AUC", higher_is_better=False)]


def _delong(p: dict, workdir: Path) -> dict:
    from mammobench.perf.stats_bench import bench_delong

    return bench_delong(**p)


def _delong_figures(d: dict) -> list[Figure]:
    return [figure("delong", "fast_s", d["fast_s"], "s", higher_is_better=False, ratio=d["speedup"],
                   baseline=f"pairwise O(mn) DeLong {d['pairwise_s']:.3f}s; {d['n_cases']} cases"),
            figure("delong", "max_abs_diff", d["max_abs_diff"], "", higher_is_better=False)]


def _e2e(p: dict, workdir: Path) -> dict:
    from mammobench.perf.e2e import bench_e2e

    return bench_e2e(workdir=workdir / "e2e", **p)


def _e2e_figures(d: dict) -> list[Figure]:
    out = [figure("e2e", f"stage:{k}", v, "s", higher_is_better=False) for k, v in d["stages"].items()]
    out.append(figure("e2e", "stage_total_s", d["stage_total_s"], "s", higher_is_better=False))
    if d["wall_s"] is not None:
        out.append(figure("e2e", f"wall_s ({d['profile']})", d["wall_s"], "s", higher_is_better=False,
                          baseline="child process wall clock, incl. report rendering and signing"))
        out.append(figure("e2e", "peak_rss_mb (process tree)", d["peak_rss_mb"], "MiB", higher_is_better=False))
    return out


_CGAN, _DDPM = _generator("cgan"), _generator("ddpm")
_GEN_TINY = {"n_train": 16, "image_size": 32, "n_sample": 2, "overrides": {"steps": 2}}


def _gen_default(name: str) -> dict:
    from mammobench.perf.generator_bench import DEFAULT_OVERRIDES

    return {"n_train": 64, "image_size": 64, "n_sample": 16, "overrides": DEFAULT_OVERRIDES[name]}


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("simulator", "phantom simulator images/s (mammobench.simulator.throughput)", _simulator,
              _simulator_figures, {"default": {"n_images": 96, "size": 256, "workers": 2},
                                   "tiny": {"n_images": 2, "size": 64, "workers": 1}}),
    Benchmark("cache", "DICOM decode (ingest) vs image-cache reads (mammobench.perf.cache_bench.benchmark_cache)",
              _cache, _cache_figures,
              {"default": {"n_images": 120, "source_size": 512, "cache_size": 128, "workers": 2},
               "ci": {"n_images": 24, "source_size": 256, "cache_size": 64, "workers": 1, "epochs": 10, "repeats": 3,
                      "best_epoch": True},
               "tiny": {"n_images": 4, "source_size": 64, "cache_size": 32, "workers": 1, "epochs": 20, "repeats": 5,
                        "best_epoch": True}}),
    Benchmark("detector_training", "train_detector vs bare PyTorch loop on the same tensors (target ratio ≥ 0.95)",
              _training, _training_figures,
              # default: 4 epochs, the quick profile's (what a `make run` cell trains; tasks/profiles.yaml,
              # tests/perf/test_benches.py keeps them equal), each scored on the validation split
              {"default": {"n_train": 256, "image_size": 96, "batch_size": 64, "epochs": 4, "repeats": 5},
               "ci": {"n_train": 128, "image_size": 64, "batch_size": 32, "epochs": 1, "repeats": 3},
               "tiny": {"n_train": 16, "image_size": 32, "batch_size": 8, "epochs": 1, "repeats": 3}}),
    Benchmark("lesion_detector", "train_lesion_detector vs bare loop (target ratio ≥ 0.9) and predict_marks images/s",
              _lesion_detector, _lesion_detector_figures,
              {"default": {"n_train": 256, "image_size": 96, "crop": 48, "batch_size": 64, "repeats": 3},
               "tiny": {"n_train": 16, "image_size": 32, "crop": 16, "batch_size": 8, "epochs": 1, "repeats": 3}}),
    Benchmark("cgan", "cgan baseline: training patches/s and sampling images/s", *_CGAN,
              {"default": _gen_default("cgan"), "tiny": _GEN_TINY}),
    Benchmark("ddpm", "ddpm baseline: training patches/s and sampling images/s", *_DDPM,
              {"default": _gen_default("ddpm"), "tiny": _GEN_TINY}),
    Benchmark("bootstrap", "patient bootstrap AUC CIs vs fairlearn MetricFrame", _bootstrap, _bootstrap_figures,
              {"default": {"n_cases": 10000, "n_groups": 4, "n_boot": 100},
               "selected": {"n_cases": 10000, "n_groups": 4, "n_boot": 1000},
               "ci": {"n_cases": 4000, "n_groups": 4, "n_boot": 20, "repeats": 3},
               "tiny": {"n_cases": 300, "n_groups": 2, "n_boot": 10, "repeats": 5}}),
    Benchmark("delong", "fast DeLong vs pairwise O(mn) DeLong", _delong, _delong_figures,
              {"default": {"n_cases": 4000, "n_models": 2, "repeats": 3},
               "ci": {"n_cases": 4000, "n_models": 2, "repeats": 7},
               "tiny": {"n_cases": 200, "n_models": 2, "repeats": 5}}),
    Benchmark("e2e", "end-to-end suite wall time by stage (result.json timings)", _e2e, _e2e_figures,
              {"default": {"profile": "smoke"}, "tiny": {"profile": "smoke"}}, quick=False),
)}
