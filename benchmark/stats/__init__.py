"""Statistics primitives: DeLong, clustered AUC, patient bootstrap, multiplicity, metrics, fairness, FROC.

Each module holds one concept; see ``docs/statistics.md`` for the methods and their references.
"""
