"""``mammobench reader``: build, serve, export and analyse reader studies.

Example:
    $ mammobench reader build --real REAL_DIR --synthetic SYNTH_DIR --design turing --out study --n-cases 200 --seed 0
    $ mammobench reader serve study                      # http://127.0.0.1:8765; links in study/key/reader_codes.csv
    $ mammobench reader codes study --readers R05,R06    # issue (or re-issue, revoking the old) reader codes
    $ mammobench reader export study --out ratings.csv   # analyst's long CSV (joins the key)
    $ mammobench reader analyze ../shared/data/vandyke_mrmc.csv --json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mammobench.errors import DataError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench reader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser("build", help="build a blinded, randomised study folder with a separate key")
    build.add_argument("--real", required=True, type=Path, help="image cache folder or folder submission")
    build.add_argument("--real-manifest", type=Path, default=None,
                       help="canonical manifest CSV (label/density/lesion_type per image_id) for a cache --real")
    build.add_argument("--synthetic", type=Path, default=None, help="folder submission (turing design)")
    build.add_argument("--design", choices=("turing", "diagnostic"), default="turing")
    build.add_argument("--out", required=True, type=Path, help="new study folder")
    build.add_argument("--n-cases", type=int, default=100, help="number of cases (default 100)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--margin", type=float, default=0.1, help="Turing equivalence margin around 0.5")
    build.add_argument("--n-readers", type=int, default=4, help="planned readers (power statement; codes R01..Rn)")
    build.add_argument("--readers", default=None, help="comma-separated reader ids to issue codes for "
                                                        "(default R01..R<n-readers>)")
    build.add_argument("--free-order", action="store_true",
                       help="let readers answer cases in any order (default: each reader's assigned order)")
    build.add_argument("--url", default="http://127.0.0.1:8765", help="where the app will run (for the reader links)")
    build.add_argument("--ai-scores", type=Path, default=None,
                       help="diagnostic: CSV image_id,score shown in the AI-aided reading")
    serve = sub.add_parser("serve", help="run the local reading web app")
    serve.add_argument("study", type=Path)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default localhost only)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", type=Path, default=None, help="SQLite file (default STUDY/answers.sqlite)")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="another name readers reach the server by (e.g. a DNS name); repeatable")
    codes = sub.add_parser("codes", help="issue or re-issue reader sign-in codes (re-issuing revokes the old code)")
    codes.add_argument("study", type=Path)
    codes.add_argument("--readers", required=True, help="comma-separated reader ids")
    codes.add_argument("--url", default="http://127.0.0.1:8765", help="where the app runs (for the links)")
    export = sub.add_parser("export", help="analyst's long CSV, or a shareable study package without key")
    export.add_argument("study", type=Path)
    export.add_argument("--out", type=Path, default=None, help="long CSV path (default STUDY/export/ratings.csv)")
    export.add_argument("--db", type=Path, default=None)
    export.add_argument("--package", type=Path, default=None, help="write a key-free study package here")
    analyze = sub.add_parser("analyze", help="Turing or OR-Hillis MRMC analysis of a ratings file")
    analyze.add_argument("file", type=Path, help="long CSV, app export, .imrmc file, or a study folder")
    analyze.add_argument("--design", choices=("auto", "mrmc", "turing"), default="auto",
                         help="auto: the export's design column, else mrmc")
    analyze.add_argument("--cov", choices=("jackknife", "delong"), default="jackknife",
                         help="MRMC covariance estimator (default jackknife)")
    analyze.add_argument("--alpha", type=float, default=0.05)
    analyze.add_argument("--margin", type=float, default=0.1, help="Turing TOST margin around 0.5")
    analyze.add_argument("--threshold", type=float, default=None,
                         help="Turing: call synthetic when rating > threshold (default: the 'call' column)")
    analyze.add_argument("--n-boot", type=int, default=2000)
    analyze.add_argument("--seed", type=int, default=0)
    analyze.add_argument("--db", type=Path, default=None, help="study folder's SQLite file")
    analyze.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _analyze(args: argparse.Namespace) -> int:
    from mammobench.io import to_json_text
    from mammobench.reader.analysis.io import read_ratings, to_mrmc_data
    from mammobench.stats.obuchowski_rockette import or_hillis
    from mammobench.reader.analysis.tables import format_mrmc, format_turing
    from mammobench.reader.analysis.turing import turing_analysis

    if args.file.is_dir():
        from mammobench.reader.export import export_ratings

        table = export_ratings(args.file, db_path=args.db)
        source = str(args.file)
    else:
        table, source = read_ratings(args.file), str(args.file)
    design = args.design
    if design == "auto":
        design = str(table["design"].iloc[0]) if "design" in table.columns else "mrmc"
    if design == "turing":
        res = turing_analysis(table, margin=args.margin, alpha=args.alpha, n_boot=args.n_boot,
                              seed=args.seed, threshold=args.threshold)
        text = format_turing(res)
    elif design in ("mrmc", "diagnostic"):
        res = or_hillis(to_mrmc_data(table, source=source), cov_method=args.cov, alpha=args.alpha)
        text = format_mrmc(res)
    else:
        raise DataError(f"{source}: unknown design {design!r}; use --design mrmc or --design turing")
    res["source"] = source
    print(to_json_text(res) if args.json else text)
    return 0


def _build(args: argparse.Namespace) -> int:
    from mammobench.reader.builder import build_study

    summary = build_study(real=args.real, synthetic=args.synthetic, design=args.design, out=args.out,
                          n_cases=args.n_cases, seed=args.seed, margin=args.margin, n_readers=args.n_readers,
                          ai_scores=args.ai_scores, real_manifest=args.real_manifest,
                          readers=_reader_list(args.readers) if args.readers else None,
                          enforce_order=not args.free_order, base_url=args.url)
    print(json.dumps(summary, indent=2))
    print(f"hand each reader their own line of {summary['reader_codes']} (code or link); keep the file private",
          file=sys.stderr)
    return 0


def _reader_list(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]


def _codes(args: argparse.Namespace) -> int:
    from mammobench.reader.access import CODES_FILE, issue_codes
    from mammobench.reader.study import load_study

    load_study(args.study)
    issued = issue_codes(args.study, _reader_list(args.readers), base_url=args.url)
    print(f"issued codes for {', '.join(issued)}; hand each reader their line of {args.study / CODES_FILE} "
          "(earlier codes of these readers no longer work)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from mammobench.reader.app import serve

    serve(args.study, host=args.host, port=args.port, db_path=args.db, allowed_hosts=tuple(args.allowed_host))
    return 0


def _export(args: argparse.Namespace) -> int:
    from mammobench.reader.export import export_package, write_ratings_csv

    if args.package is not None:
        export_package(args.study, args.package)
        print(f"wrote key-free study package {args.package}")
        return 0
    out = args.out or args.study / "export" / "ratings.csv"
    n = write_ratings_csv(args.study, out, db_path=args.db)
    print(f"wrote {n} reads to {out} (contains the truth key: analyst use only)")
    return 0


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench reader``."""
    args = _parser().parse_args(argv)
    handlers = {"analyze": _analyze, "build": _build, "serve": _serve, "export": _export, "codes": _codes}
    return handlers[args.action](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
