"""Tamper-evident provenance: a signed run manifest listing the SHA-256 of every artefact.

``sign_run(run_dir)`` writes three files into the run folder:

* ``manifest.json`` — package versions, git SHA, config and cohort hashes, every seed, hardware,
  timings (taken from ``result.json`` and the signing machine) and ``files``: the SHA-256 and size
  of every other file in the folder;
* ``manifest.sig`` — the Ed25519 signature (hex) of the exact bytes of ``manifest.json``;
* ``signing_key.pub`` — the public key (PEM) so anyone can verify the run.

The private key lives in ``~/.config/mammobench/signing_key.pem`` (created on first use, mode
0600) or at the path in the environment variable ``MAMMOBENCH_SIGNING_KEY``.
``verify_run(run_dir)`` reports changed, missing and added files and whether the signature holds.

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

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mammobench.environment import environment, git_sha
from mammobench.errors import IntegrityError, SchemaError
from mammobench.io import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes, sha256_file, to_json_text

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing_key.pub"
PROVENANCE_FILES = (MANIFEST, SIGNATURE, PUBLIC_KEY)
IGNORED = (".lock",)  # the run lock is process state, not an artefact
KEY_ENV = "MAMMOBENCH_SIGNING_KEY"

@dataclass
class VerifyReport:
    """Outcome of :func:`verify_run`: ``ok`` only when the signature holds and no file differs."""

    run_dir: str
    signature_valid: bool
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    key_fingerprint: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.signature_valid and not (self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        """Human-readable lines, one per problem (empty when ok)."""
        out = [] if self.signature_valid else [f"signature INVALID: {self.reason}"]
        out += [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"added: {p}" for p in self.added]
        return out


def default_key_path() -> Path:
    """Where the user's private signing key lives (env ``MAMMOBENCH_SIGNING_KEY`` wins)."""
    env = os.environ.get(KEY_ENV)
    return Path(env).expanduser() if env else Path.home() / ".config" / "mammobench" / "signing_key.pem"


def load_or_create_key(path: str | Path | None = None) -> Ed25519PrivateKey:
    """Load the Ed25519 private key at ``path``, creating a new one (mode 0600) if absent.

    Raises:
        IntegrityError: when the file exists but is not an unencrypted Ed25519 PEM key.
    """
    path = Path(path) if path else default_key_path()
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as err:
            raise IntegrityError(f"{path}: not a readable unencrypted PEM private key ({err}); "
                                 f"delete it to create a new key or point {KEY_ENV} elsewhere") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise IntegrityError(f"{path}: signing key must be Ed25519, got {type(key).__name__}")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_bytes(path, pem)
    os.chmod(path, 0o600)
    return key


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """PEM bytes of the public half of ``key``."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def list_artefacts(run_dir: str | Path, exclude: tuple[str, ...] = ()) -> dict[str, dict]:
    """``{relative posix path: {sha256, bytes}}`` of every file except provenance files and the lock."""
    run_dir = Path(run_dir)
    skip = set(PROVENANCE_FILES) | set(IGNORED) | set(exclude)
    out = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(run_dir).as_posix()
        if rel in skip:
            continue
        out[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return out


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
        "key_fingerprint": sha256_bytes(public_pem(key)),
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
    """(valid, reason, key fingerprint) for ``body`` against a hex signature file and a PEM key."""
    if not sig_path.exists() or not pub_path.exists():
        return False, f"{sig_path.name} or {pub_path.name} is missing", ""
    pem = pub_path.read_bytes()
    try:
        pub = serialization.load_pem_public_key(pem)
        sig = bytes.fromhex(sig_path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError) as err:
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


def verify_run(run_dir: str | Path, trusted_fingerprints: tuple[str, ...] = ()) -> VerifyReport:
    """Check the signature and every artefact hash of a signed run folder.

    Args:
        run_dir: the run folder.
        trusted_fingerprints: optional SHA-256 fingerprints of accepted public keys; when given,
            a run signed by any other key is reported invalid.
    """
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST).exists():
        return VerifyReport(str(run_dir), False, reason=f"{MANIFEST} not found; sign the run first "
                                                       "(mammobench run signs it; or mammobench.report.provenance.sign_run)")
    body = (run_dir / MANIFEST).read_bytes()
    valid, reason, fingerprint = check_signature(body, run_dir / SIGNATURE, run_dir / PUBLIC_KEY)
    try:
        manifest = read_json(run_dir / MANIFEST)
        expected = manifest["files"]
    except (SchemaError, KeyError, TypeError):
        return VerifyReport(str(run_dir), False, reason=f"{MANIFEST} is not a valid manifest")
    if valid and manifest.get("key_fingerprint") != fingerprint:
        valid, reason = False, "the public key does not match the fingerprint recorded in the manifest"
    if valid and trusted_fingerprints and fingerprint not in trusted_fingerprints:
        valid, reason = False, f"key {fingerprint[:16]}… is not among the trusted keys"
    changed, missing, added = compare_files(expected, list_artefacts(run_dir))
    return VerifyReport(str(run_dir), valid, changed, missing, added, fingerprint, reason)
