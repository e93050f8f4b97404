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


def reader_codes(study: Path) -> dict[str, str]:
    """``{reader: code}`` from the study owner's ``key/reader_codes.csv``."""
    table = pd.read_csv(study / "key" / "reader_codes.csv", dtype=str)
    return dict(zip(table["reader"], table["code"]))


class Client:
    """A cookie-keeping JSON client for the reading app (``headers`` are sent with every request)."""

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        self.base = base
        self.headers = dict(headers or {})
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path, headers=self.headers)
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post(self, path: str, body: dict | bytes, content_type: str = "application/json") -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data,
                                     headers={"Content-Type": content_type, **self.headers})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def signin(self, study: Path, reader: str) -> tuple[int, dict]:
        """Sign in as ``reader`` with their code."""
        return self.post("/api/signin", {"code": reader_codes(study)[reader]})
