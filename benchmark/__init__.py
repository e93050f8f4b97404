"""MammoBench: validation and fairness benchmark harness for synthetic breast-imaging data."""

__version__ = "0.1.0"
