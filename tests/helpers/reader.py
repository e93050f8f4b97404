"""Tiny seeded image folders (folder-submission layout) for reader-study tests."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def make_folder(root: Path, n: int, prefix: str, seed: int) -> Path:
    """Write ``n`` 16-bit PNGs + manifest.csv with label/density/lesion_type strata."""
    rng = np.random.default_rng(seed)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        yy, xx = np.mgrid[:64, :48]
        img = (np.exp(-((xx - 10) ** 2 + (yy - 32) ** 2) / 600.0) * 40000 + rng.random((64, 48)) * 9000)
        name = f"img/{prefix}_patient{i:03d}.png"
        Image.fromarray(img.astype(np.uint16)).save(root / name)
        malignant = i % 3 == 0
        rows.append({"file": name, "label": "malignant" if malignant else "normal",
                     "lesion_type": "mass" if malignant else "none", "density": "ABCD"[i % 4],
                     "age_band": "50-59", "view": "CC", "findings": "[]"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


class Client:
    """A cookie-keeping JSON client for the reading app."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
