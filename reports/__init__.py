"""Reporting checklists (``checklists/*.yaml``) and report/leaderboard templates (``templates/*.j2``), shipped as
package data (``mammobench.reports``). Only data lives here; :mod:`mammobench.resources` finds it."""

__all__: list[str] = []
