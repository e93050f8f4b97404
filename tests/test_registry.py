"""Registry: lazy specs, duplicates raise, did-you-mean, entry points."""
from __future__ import annotations

import sys
import textwrap

import pytest

from mammobench.errors import RegistryError
from mammobench.registry import Registry, import_object


def test_register_get_and_lazy_import():
    reg = Registry("thing")
    reg.register("od", "collections:OrderedDict")
    from collections import OrderedDict

    assert reg.get("od") is OrderedDict
    assert reg.names() == ["od"]


def test_duplicate_registration_raises():
    reg = Registry("thing")
    reg.register("a", int)
    reg.register("a", int)  # same target is fine
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a", float)


def test_unknown_name_suggests():
    reg = Registry("generator")
    reg.register("physics", int)
    with pytest.raises(RegistryError, match="Did you mean 'physics'"):
        reg.get("physic")


def test_module_attr_spec_and_bad_spec():
    assert import_object("os.path:join").__name__ == "join"
    with pytest.raises(RegistryError, match="cannot import module"):
        import_object("no_such_module_xyz:Thing")
    with pytest.raises(RegistryError, match="has no attribute"):
        import_object("os:no_such_attribute")
    with pytest.raises(RegistryError, match="not of the form"):
        import_object("justaname")


def test_entry_point_discovery(tmp_path, monkeypatch):
    pkg = tmp_path / "epdemo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("class Thing:\n    pass\n")
    dist = tmp_path / "epdemo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: epdemo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""
        [mammobench.test_things]
        thing = epdemo:Thing
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("thing", "mammobench.test_things")
    assert "thing" in reg.names()
    assert reg.get("thing").__name__ == "Thing"
    sys.modules.pop("epdemo", None)
