"""Session fixtures shared by all tests.

* `paper_models_dir`: ../shared/models (the paper's three .pkl files, relative to the repo
  root); tests that need it skip, naming the folder, when it is absent.
* `example_models`: the example models of `examples/build_models.py`, as
  name -> {"float": path, "int8": path}.  Reuses examples/models when `make examples` has
  built it, and otherwise builds all three once per session into a temporary folder.
* `family_models`: the SqueezeNet-, ShuffleNetV2- and MobileNetV3-like models of
  `examples/families.py` at 64 px, float and int8 (`tte quantize`), built once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAPER_MODELS_DIR = REPO_ROOT.parent / "shared" / "models"
PAPER_MODEL_FILES = ("mcunet-5fps.pkl", "mbv2-w0.35.pkl", "proxyless-w0.3.pkl")


@pytest.fixture(scope="session")
def paper_models_dir() -> str:
    missing = [f for f in PAPER_MODEL_FILES if not (PAPER_MODELS_DIR / f).is_file()]
    if missing:
        pytest.skip(f"the paper's models are not in {PAPER_MODELS_DIR} (missing {', '.join(missing)})")
    return str(PAPER_MODELS_DIR)


@pytest.fixture(scope="session")
def example_models(tmp_path_factory) -> dict[str, dict[str, str]]:
    from examples.architectures import ARCHITECTURES
    from examples.build_models import DEFAULT_OUT, build

    prebuilt = {name: {kind: str(Path(DEFAULT_OUT) / f"{name}-{kind}.onnx") for kind in ("float", "int8")}
                for name in ARCHITECTURES}
    if all(Path(p).is_file() for paths in prebuilt.values() for p in paths.values()):
        return prebuilt
    return build(str(tmp_path_factory.mktemp("example_models")))


FAMILY_SIZE = 64


@pytest.fixture(scope="session")
def family_models(tmp_path_factory) -> dict[str, dict[str, str]]:
    from examples.families import build

    return build(str(tmp_path_factory.mktemp("family_models")), FAMILY_SIZE)
