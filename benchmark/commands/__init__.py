"""One module per ``mammobench`` sub-command, each with ``main(argv) -> int`` (dispatched by :mod:`mammobench.cli`).

Commands are entry points, not a library: use the subpackages' public names from Python.
"""
__all__: list[str] = []
