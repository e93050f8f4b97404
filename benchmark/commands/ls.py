"""``mammobench ls tasks|suites|generators|adapters|detectors``: what is available here.

Example:
    $ mammobench ls tasks
"""
from __future__ import annotations

import argparse

KINDS = ("tasks", "suites", "generators", "adapters", "detectors")


def _rows(kind: str) -> list[tuple[str, str]]:
    if kind == "tasks":
        from mammobench.pipeline.suites import list_tasks

        return [(name, str(path)) for name, path in list_tasks().items()]
    if kind == "suites":
        from mammobench.pipeline.suites import load_suites

        return [(s.name, f"{s.profile}: {', '.join(s.tasks)} — {s.description}") for s in load_suites().values()]
    from mammobench import registry

    if kind == "generators":
        import mammobench.generators  # noqa: F401  (registers built-ins)
        reg = registry.GENERATORS
    elif kind == "adapters":
        import mammobench.data.adapters  # noqa: F401
        reg = registry.ADAPTERS
    else:
        import mammobench.training  # noqa: F401
        reg = registry.DETECTORS
    return [(name, entry if isinstance(entry, str) else f"{entry.__module__}:{getattr(entry, '__qualname__', '')}")
            for name, entry in reg.items()]


def main(argv: list[str]) -> int:
    """Print one line per item: name and where it comes from."""
    parser = argparse.ArgumentParser(prog="mammobench ls", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    args = parser.parse_args(argv)
    rows = _rows(args.kind)
    width = max((len(n) for n, _ in rows), default=0)
    for name, where in rows:
        print(f"{name:<{width}}  {where}")
    return 0
