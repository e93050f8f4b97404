"""Detector recipes: how to build the image classifier a cell trains.

A recipe is a class with ``build(*, arch, weights=None) -> torch.nn.Module`` returning a model that
maps ``[N, 1, H, W]`` float images to ``[N]`` logits (lesion present / positive class). Recipes never
download anything: ``pretrained`` weights come only from a local file named in the task config.

Example:
    >>> model = TimmClassifier().build(arch="test_resnet")
    >>> import torch
    >>> model(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2])
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mammobench.errors import ConfigError


class _Squeeze(nn.Module):
    """Wrap a ``[N, 1]``-output model so it returns ``[N]`` logits."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


def read_state_dict(path: str | Path, *, where: str = "detector.weights") -> dict:
    """Read a local ``.pth``/``.pt``/``.safetensors`` state dict (tensors only: ``weights_only=True``).

    Raises:
        ConfigError: the file is missing, is not a tensor archive, or holds no mapping of names to tensors.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{where}: {path} does not exist; give a local weights file or null "
                          "(MammoBench never downloads weights)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors, zip errors, safetensors header errors: all "not a state dict"
        raise ConfigError(f"{where}: cannot load {path} as a state dict ({type(err).__name__}: "
                          f"{str(err).splitlines()[0][:160] if str(err) else 'unreadable'}); give a file saved "
                          "with torch.save(model.state_dict(), ...) or safetensors") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ConfigError(f"{where}: {path} does not hold a state dict (a mapping of parameter names to tensors); "
                          "give a file saved with torch.save(model.state_dict(), ...)")
    return state


def load_local_weights(model: nn.Module, path: str | Path) -> list[str]:
    """Load a local state dict (:func:`read_state_dict`) into ``model`` where shapes match.

    Returns the names of parameters left at their initial values (e.g. the 1-channel stem or the
    new classifier head).

    Raises:
        ConfigError: the file is missing or is not a state dict.
    """
    state = read_state_dict(path)
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))


def check_timm_arch(arch: str) -> None:
    """Raise a :class:`ConfigError` with close names when ``arch`` is not a timm architecture.

    Example:
        >>> check_timm_arch("test_resnet")
    """
    import timm

    if not timm.is_model(arch):
        import difflib

        close = difflib.get_close_matches(arch, timm.list_models(), n=3)
        raise ConfigError(f"detector.arch: unknown timm architecture '{arch}'"
                          + (f"; did you mean {close}?" if close else "; see timm.list_models()"))


class TimmClassifier:
    """A timm backbone with one input channel and one logit (``pretrained=False`` always).

    Small architectures (``test_resnet``, ``resnet10t``) keep CPU runs fast; any timm name works.
    """

    name = "timm_classifier"

    kind = "classification"

    def build(self, *, arch: str, weights: str | None = None) -> nn.Module:
        """Create the model; ``weights`` is an optional local file."""
        import timm

        check_timm_arch(arch)
        body = timm.create_model(arch, pretrained=False, in_chans=1, num_classes=1)
        if weights:
            load_local_weights(body, weights)
        return _Squeeze(body)
