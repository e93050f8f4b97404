"""Built-in MammoBench tasks, shipped as package data (``mammobench.tasks``): ``<name>/task.yaml`` + dataset card,
and ``suites.yaml``. Only data lives here; :mod:`mammobench.resources` finds it. Copy ``_template/`` to add a task."""

__all__: list[str] = []
