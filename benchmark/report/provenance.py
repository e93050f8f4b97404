"""Tamper-evident provenance: a signed run manifest listing the SHA-256 of every artefact.

``sign_run(run_dir)`` writes three files into the run folder:

* ``manifest.json`` — package versions, git SHA, config and cohort hashes, every seed, hardware,
  timings (taken from ``result.json`` and the signing machine) and ``files``: the SHA-256 and size
  of every other file in the folder;
* ``manifest.sig`` — the Ed25519 signature (hex) of the exact bytes of ``manifest.json``;
* ``signing_key.pub`` — the public key (PEM) so anyone can verify the run.

The private key lives in ``~/.config/mammobench/signing_key.pem`` (created on first use, mode
0600) or at the path in the environment variable ``MAMMOBENCH_SIGNING_KEY``.
``verify_run(run_dir)`` reports three separate things: *integrity* (every file matches the manifest:
changed, missing, added, and links or special files, which are never followed or read), the
*signature* (valid for the public key in the folder) and *trust* (that key's full fingerprint is in
a trust list, :mod:`mammobench.report.trust`). A run is verified only when all three hold.

Example:
    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a.txt").write_text("x")
    1
    >>> os.environ["MAMMOBENCH_SIGNING_KEY"] = str(d.parent / (d.name + ".pem"))
    >>> _ = sign_run(d)
    >>> verify_run(d).ok
    True
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mammobench.environment import environment, git_sha
from mammobench.errors import IntegrityError
from mammobench.io import atomic_write_bytes, read_json, sha256_bytes, to_json_text
from mammobench.report.artefacts import describe, read_regular_file, scan_folder
from mammobench.report.keys import (KEY_ENV, default_key_path, fingerprint_of, load_key,  # noqa: F401 (re-exported)
                                    load_or_create_key, public_pem)
from mammobench.report.trust import HOW_TO_TRUST, TrustList, user_trust

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing_key.pub"
PROVENANCE_FILES = (MANIFEST, SIGNATURE, PUBLIC_KEY)
IGNORED = (".lock",)  # the run lock is process state, not an artefact

@dataclass
class VerifyReport:
    """Outcome of :func:`verify_run`: integrity, signature and trust, each on its own.

    ``ok`` only when every file matches the manifest, the signature holds and the key is trusted.
    """

    run_dir: str
    signature_valid: bool
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    key_fingerprint: str = ""
    reason: str = ""
    unsafe: list[str] = field(default_factory=list)
    trusted_by: str | None = None
    n_files: int = 0
    manifest_read: bool = True

    @property
    def intact(self) -> bool:
        """Integrity: every file matches the manifest and nothing unsafe (link, FIFO, device) is in the folder."""
        return self.manifest_read and not (self.changed or self.missing or self.added or self.unsafe)

    @property
    def trusted(self) -> bool:
        return self.trusted_by is not None

    @property
    def ok(self) -> bool:
        return self.signature_valid and self.intact and self.trusted

    def integrity_line(self) -> str:
        if self.intact:
            return f"integrity: ok ({self.n_files} files match manifest.json)"
        if not self.manifest_read:
            return f"integrity: FAILED ({self.reason})"
        n = len(self.changed) + len(self.missing) + len(self.added) + len(self.unsafe)
        return f"integrity: FAILED ({n} problem(s))"

    def signature_line(self) -> str:
        if self.signature_valid:
            return f"signature: valid (Ed25519, key {self.key_fingerprint})"
        return f"signature: INVALID ({self.reason})"

    def trust_line(self) -> str:
        if not self.key_fingerprint:
            return "trust: unknown (no readable signing key)"
        if self.trusted:
            return f"trust: trusted key {self.key_fingerprint} ({self.trusted_by})"
        return f"trust: NOT TRUSTED: signed by an unknown key {self.key_fingerprint}"

    def lines(self) -> list[str]:
        """Human-readable lines, one per problem (empty when ok)."""
        out = [] if self.signature_valid else [f"signature INVALID: {self.reason}"]
        out += [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"added: {p}" for p in self.added]
        out += [f"unsafe: {p}" for p in self.unsafe]
        if self.signature_valid and not self.trusted:
            out.append(f"signed by an unknown key {self.key_fingerprint}; {HOW_TO_TRUST}")
        return out


def list_artefacts(run_dir: str | Path, exclude: tuple[str, ...] = ()) -> dict[str, dict]:
    """``{relative posix path: {sha256, bytes}}`` of every regular file except provenance files and the lock.

    Raises:
        IntegrityError: the folder holds a link, FIFO, device or socket (they are never signed).
    """
    scan = scan_folder(run_dir, skip=tuple(PROVENANCE_FILES) + tuple(IGNORED) + tuple(exclude))
    if scan.problems:
        raise IntegrityError(f"{run_dir}: cannot sign a folder holding links or special files: "
                             + "; ".join(scan.problems))
    return scan.files


def _signer() -> dict:
    """Who signed: the code's commit and the signing machine (the same collector as result.json)."""
    env = environment("cpu")
    return {"git_sha": git_sha(), "python": env["python"], "platform": env["platform"], "machine": env["machine"],
            "cpu_count": env["cpu_count"], "packages": env["packages"]}


def build_manifest(run_dir: str | Path, key: Ed25519PrivateKey) -> dict:
    """The manifest mapping: run facts from ``result.json`` plus the artefact hashes."""
    run_dir = Path(run_dir)
    result = read_json(run_dir / "result.json") if (run_dir / "result.json").exists() else {}
    return {
        "manifest_version": "1.0",
        "run_id": result.get("run_id", run_dir.name),
        "benchmark": result.get("benchmark", {}),
        "signer": _signer(),
        "task_config_sha256": result.get("task", {}).get("config_sha256", ""),
        "cohort_manifest_sha256": result.get("cohort", {}).get("manifest_sha256", ""),
        "analysis_plan_sha256": result.get("analysis_plan", {}).get("sha256", ""),
        "seeds": result.get("seeds", []),
        "environment": result.get("environment", {}),
        "timings": result.get("timings", {}),
        "key_fingerprint": fingerprint_of(key),
        "files": list_artefacts(run_dir),
    }


def sign_run(run_dir: str | Path, key_path: str | Path | None = None) -> Path:
    """Hash every artefact, write ``manifest.json``, sign it and copy the public key into the run.

    Returns:
        Path of the written ``manifest.json``.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise IntegrityError(f"{run_dir}: not a run folder")
    key = load_or_create_key(key_path)
    body = to_json_text(build_manifest(run_dir, key)).encode("utf-8")
    atomic_write_bytes(run_dir / MANIFEST, body)
    atomic_write_bytes(run_dir / SIGNATURE, key.sign(body).hex().encode("ascii") + b"\n")
    atomic_write_bytes(run_dir / PUBLIC_KEY, public_pem(key))
    return run_dir / MANIFEST


def check_signature(body: bytes, sig_path: Path, pub_path: Path) -> tuple[bool, str, str]:
    """(valid, reason, key fingerprint) for ``body`` against a hex signature file and a PEM key.

    Both files are read only when they are regular files (never through a link).
    """
    try:
        pem = read_regular_file(pub_path, 1 << 16)
        sig_text = read_regular_file(sig_path, 1 << 16)
    except IntegrityError as err:
        return False, f"{err}", ""
    except OSError as err:
        return False, f"cannot read {sig_path.name} or {pub_path.name} ({err.strerror})", ""
    try:
        pub = serialization.load_pem_public_key(pem)
        sig = bytes.fromhex(sig_text.decode("ascii").strip())
    except (ValueError, UnicodeDecodeError, UnsupportedAlgorithm) as err:
        return False, f"unreadable key or signature ({err})", ""
    if not isinstance(pub, Ed25519PublicKey):
        return False, f"{pub_path.name} is not an Ed25519 key", ""
    try:
        pub.verify(sig, body)
    except InvalidSignature:
        return False, f"{sig_path.name} does not match the manifest bytes", sha256_bytes(pem)
    return True, "", sha256_bytes(pem)


def compare_files(expected: dict[str, dict], actual: dict[str, dict]) -> tuple[list, list, list]:
    """(changed, missing, added) relative paths, each sorted."""
    changed = sorted(p for p in expected if p in actual and actual[p]["sha256"] != expected[p]["sha256"])
    missing = sorted(p for p in expected if p not in actual)
    added = sorted(p for p in actual if p not in expected)
    return changed, missing, added


def _read_manifest(run_dir: Path) -> tuple[bytes, dict] | str:
    """(bytes, parsed manifest) or the reason it cannot be used."""
    if not os.path.lexists(run_dir / MANIFEST):
        return (f"{MANIFEST} not found; sign the run first (mammobench run signs it; or "
                "mammobench.report.provenance.sign_run)")
    try:
        body = read_regular_file(run_dir / MANIFEST)
        manifest = json.loads(body.decode("utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict) or not all(isinstance(v, dict) and "sha256" in v for v in files.values()):
            raise TypeError("files is not a mapping of {sha256, bytes}")
        return body, manifest
    except IntegrityError as err:
        return str(err)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as err:
        return f"{MANIFEST} is not a valid manifest ({type(err).__name__}: {err})"


def verify_run(run_dir: str | Path, trusted: TrustList | tuple[str, ...] | list[str] | None = None) -> VerifyReport:
    """Check integrity, signature and trust of a signed run folder; never raises for a bad folder.

    Args:
        run_dir: the run folder (it may itself be a link; nothing inside it is followed).
        trusted: the trust list; a tuple of fingerprints means exactly those; ``None`` means the
            user's default list (:func:`mammobench.report.trust.user_trust`: the user's file and
            own signing key).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return VerifyReport(str(run_dir), False, reason=f"{run_dir}: not a folder (or a dangling link)",
                            manifest_read=False)
    trust = trusted if isinstance(trusted, TrustList) else (
        user_trust() if trusted is None else TrustList({fp: "given list" for fp in trusted}))
    read = _read_manifest(run_dir)
    if isinstance(read, str):
        scan = scan_folder(run_dir, skip=tuple(PROVENANCE_FILES) + IGNORED)
        return VerifyReport(str(run_dir), False, reason=read, unsafe=scan.problems, manifest_read=False)
    body, manifest = read
    valid, reason, fingerprint = check_signature(body, run_dir / SIGNATURE, run_dir / PUBLIC_KEY)
    if valid and manifest.get("key_fingerprint") != fingerprint:
        valid, reason = False, "the public key does not match the fingerprint recorded in the manifest"
    scan = scan_folder(run_dir, skip=tuple(PROVENANCE_FILES) + IGNORED)
    changed, missing, added = compare_files(manifest["files"], scan.files)
    unsafe = [p for p in scan.problems if p.split(":")[0] not in PROVENANCE_FILES]
    unsafe += [f"{name}: {describe(run_dir / name)}" for name in PROVENANCE_FILES
               if describe(run_dir / name) not in ("regular file", "missing")]
    return VerifyReport(str(run_dir), valid, changed, missing, added, fingerprint, reason, sorted(unsafe),
                        trust.source(fingerprint) if valid and fingerprint else None, len(manifest["files"]))
