"""examples/stm32f746/tte_ab_store.c keeps a checkpoint through a reset in the middle of a save.

tests/qemu/firmware/ab_store.c runs on QEMU with the example MCUNet-5FPS (sparse_49kb, 10
classes) and a simulated NOR Flash whose power fails after a given number of programmed bytes:
in the header, in the parameters, before and in the commit.  After every cut and reset the
engine must hold the state of the last complete save, which the same C built for the host
computes independently; after a complete save, the new state.  A newest slot whose parameters
rot is passed over at load, and the next save overwrites it rather than the good one.
"""

from __future__ import annotations

import numpy as np

from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.resources import example_firmware_dir
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets import build_firmware, run_qemu
from tinyengine_compiler.targets.host import engine_from_folder

from ..sample_images import sample_images
from .conftest import FIRMWARE, needs_arm_gcc, needs_qemu

LABELS = [2, 5, 7]
CUTS = 7   # ab_store.c's cut points


@needs_arm_gcc
@needs_qemu
def test_a_save_cut_short_leaves_the_last_complete_one(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    out = tmp_path / "out"
    ctx = compile_training(g, load_scheme("sparse_49kb"), str(out), Options(num_classes=10)).context
    fw = build_firmware([*sorted(out.glob("*.c")), *sorted((out / "runtime" / "src").glob("*.c")),
                         example_firmware_dir() / "tte_ab_store.c", FIRMWARE / "ab_store.c"],
                        [out, out / "runtime" / "include", example_firmware_dir()], tmp_path / "build",
                        opt="-Ofast", stack_bytes=16384, name="ab_store")
    xs = np.stack([quantize_image(g, im) for im in sample_images(3)])
    work = tmp_path / "io"
    work.mkdir()
    (work / "inputs.bin").write_bytes(xs.tobytes())
    (work / "labels.bin").write_bytes(np.asarray(LABELS, np.int32).tobytes())
    run = run_qemu(fw.elf, workdir=work, timeout_s=300, count=False)
    assert run.exit_code == 0, run.stdout[-500:]

    host = engine_from_folder(str(out), str(tmp_path / "host"))
    initial = host.get_trainable()
    host.train_step(xs[0], LABELS[0], 0.05)
    after_1 = host.get_trainable()
    host.train_step(xs[1], LABELS[1], 0.05)
    after_2 = host.get_trainable()
    assert len({initial, after_1, after_2}) == 3

    record = 4 + ctx["trainable_bytes"]
    data = (work / "events.bin").read_bytes()
    events = [(int(np.frombuffer(data[i:i + 4], np.int32)[0]), data[i + 4:i + record])
              for i in range(0, len(data), record)]
    assert len(events) == 1 + 1 + CUTS + 4
    assert events[0] == (-1, initial)                       # nothing saved yet: Flash weights
    assert events[1] == (0, after_1)                        # the first save, in slot A
    assert events[2:2 + CUTS] == [(0, after_1)] * CUTS      # every cut save to B: A survives
    assert events[2 + CUTS] == (1, after_2)                 # a whole save to B, then B
    assert events[3 + CUTS] == (0, after_1)                 # B rotted: back to A
    assert events[4 + CUTS] == (0, after_1)                 # a cut save went to bad B, not to A
    assert events[5 + CUTS] == (1, after_2)                 # and a whole one to B again
