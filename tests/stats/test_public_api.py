"""``mammobench.stats`` exports its public names lazily; each resolves to the function it names."""
from __future__ import annotations

import subprocess
import sys

import mammobench.stats as stats


def test_every_exported_name_resolves():
    for name in stats.__all__:
        obj = getattr(stats, name)
        assert obj.__name__ == name and obj.__module__.startswith("mammobench.stats.")
    for name in ("delong_ci", "paired_delong_test", "clustered_auc_ci", "PatientBootstrap", "adjust_p_values",
                 "or_hillis"):
        assert name in stats.__all__


def test_import_is_lazy():
    code = ("import sys, mammobench.stats as s; assert 'statsmodels' not in sys.modules; "
            "assert 'mammobench.stats.obuchowski_rockette' not in sys.modules; s.or_hillis; "
            "assert 'mammobench.stats.obuchowski_rockette' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
