"""The perf measurements written in benchmark/perf run at tiny sizes and report consistent fields."""
from __future__ import annotations

import pytest

from mammobench.perf.generator_bench import bench_generator
from mammobench.environment import git_sha
from mammobench.perf.machine import machine_info, peak_memory_mb
from mammobench.perf.training_bench import bench_detector_training


def test_detector_training_bench_fields():
    r = bench_detector_training(n_train=12, image_size=32, batch_size=4, epochs=1, repeats=1)
    assert r["n_val"] == 3
    assert r["ratio"] == pytest.approx(r["harness_images_per_s"] / r["bare_images_per_s"])
    assert r["loop_ratio"] == pytest.approx(r["harness_loop_images_per_s"] / r["bare_images_per_s"])
    assert all(len(v) == 1 and v[0] > 0 for v in r["seconds"].values())
    assert r["in_turn_ratio"] == pytest.approx(r["harness_in_turn_images_per_s"] / r["bare_images_per_s"])
    assert set(r["cpu_seconds"]) == {"bare", "harness", "in_turn", "loop", "channels_last"}
    assert r["cpu_ratio"] > 0 and r["loop_cpu_ratio"] > 0 and r["channels_last_cpu_ratio"] > 0
    assert r["channels_last_ratio"] == pytest.approx(r["harness_channels_last_images_per_s"] / r["bare_images_per_s"])


@pytest.mark.parametrize("name", ["cgan", "ddpm"])
def test_generator_bench_fields(name):
    r = bench_generator(name, n_train=16, image_size=32, n_sample=2, overrides={"steps": 2})
    assert r["n_sample"] == 2 and r["params"]["steps"] == 2 and r["params"]["device"] == "cpu"
    assert r["train_images_per_s"] > 0 and r["sample_images_per_s"] > 0
    assert r["fit_seconds"] >= r["train_loop_seconds"]


def test_machine_info_and_memory():
    info = machine_info()
    assert info["cpu_count"] >= 1 and info["torch_threads"] >= 1 and info["device"] in ("cpu", "cuda")
    assert info["load_average"] is None or len(info["load_average"]) == 3
    assert info["git_sha"] == git_sha()
    assert info["git_sha"] == "" or len(info["git_sha"].removesuffix("-dirty")) == 40
    mem = peak_memory_mb()
    assert mem["self_peak_rss_mb"] >= mem["current_rss_mb"] * 0.5 > 0


def test_lesion_detector_bench_fields():
    from mammobench.perf.detection_bench import bench_lesion_detector, task_validate_every
    from mammobench.perf.suite import BENCHMARKS

    r = bench_lesion_detector(n_train=8, image_size=32, crop=16, batch_size=4, epochs=2, repeats=1)
    assert r["n_val"] == 3 and r["validate_every"] == task_validate_every() and r["epochs"] == 2
    assert set(r["seconds"]) == set(r["cpu_seconds"]) == {"bare", "harness", "every_epoch", "loop"}
    assert r["ratio"] == pytest.approx(r["harness_images_per_s"] / r["bare_images_per_s"])
    assert r["every_epoch_ratio"] == pytest.approx(r["harness_every_epoch_images_per_s"] / r["bare_images_per_s"])
    assert r["inference_images_per_s"] > 0 and r["cpu_ratio"] > 0 and r["loop_cpu_ratio"] > 0
    figures = BENCHMARKS["lesion_detector"].figures(r)
    assert {f["figure"] for f in figures if f["ratio"]} == {
        "harness_images_per_s", "harness_every_epoch_images_per_s", "harness_loop_images_per_s",
        "cpu_time_ratio", "every_epoch_cpu_time_ratio", "loop_cpu_time_ratio"}
    assert any(f["figure"] == "inference_images_per_s@32px" for f in figures)
    with pytest.raises(ValueError, match="crop"):
        bench_lesion_detector(n_train=8, image_size=32, crop=64, repeats=1)


def test_lesion_detector_bench_defaults_follow_the_task_schedule():
    """The harness figure validates on vc_lesion_detect's schedule, over that many epochs (one validation)."""
    from mammobench.perf.detection_bench import task_validate_every
    from mammobench.pipeline.suites import find_task

    k = task_validate_every()
    assert k == find_task("vc_lesion_detect").detection.validate_every > 1
    assert find_task("vc_lesion_detect").detection.options()["validate_every"] == k


def test_detector_training_bench_trains_the_quick_profiles_epochs():
    """The harness figure is what a default (quick) cell does: its epoch count, each epoch validated."""
    from mammobench.perf.suite import BENCHMARKS
    from mammobench.pipeline.profiles import load_profiles

    assert BENCHMARKS["detector_training"].scales["default"]["epochs"] == load_profiles()["quick"].epochs
