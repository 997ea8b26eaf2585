"""folders.py: a folder or files replaced all or nothing, with the permissions a plain write
would give them (not the private ones of their temporary names)."""

import os
import stat

import pytest

from tinyengine_compiler.folders import replace_files, replace_folder


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_replaced_folder_and_its_files_get_the_umask_modes(tmp_path, umask):
    out = tmp_path / "engine"
    replace_folder(out, lambda d: (d / "model.c").write_text("int x;\n"))
    assert mode(out) == 0o777 & ~umask and mode(out / "model.c") == 0o666 & ~umask
    replace_files([(tmp_path / "scheme.json", lambda p: open(p, "w").write("{}"))])
    assert mode(tmp_path / "scheme.json") == 0o666 & ~umask


def test_a_failed_fill_leaves_the_old_folder_and_files_and_no_temporaries(tmp_path):
    out = tmp_path / "engine"
    replace_folder(out, lambda d: (d / "model.c").write_text("good\n"))
    (tmp_path / "a.json").write_text("good")

    def fail(_):
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        replace_folder(out, lambda d: ((d / "model.c").write_text("half"), fail(d)))
    with pytest.raises(RuntimeError):
        replace_files([(tmp_path / "a.json", lambda p: open(p, "w").write("new")), (tmp_path / "b.json", fail)])
    assert (out / "model.c").read_text() == "good\n" and (tmp_path / "a.json").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "engine"]
