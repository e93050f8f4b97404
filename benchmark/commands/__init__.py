"""CLI sub-commands; each module exposes ``main(argv) -> int`` (see benchmark/cli.py)."""
