"""`tinygrad-maas export` as operators run it: at the same time as other exports, killed halfway, with bad
version numbers, and read afterwards by a server running as another user."""

import os
import stat
import subprocess
import sys

import pytest

from tests.serve.conftest import write_model
from tinygrad_maas.__main__ import main


@pytest.fixture
def saved(tmp_path):
    write_model(tmp_path / "source", "tiny", 1, 1.0)
    return tmp_path / "source" / "tiny" / "1"


@pytest.mark.parametrize("version", ["0", "-1", "1.5", "01x"])
def test_a_version_must_be_a_positive_integer(saved, tmp_path, capsys, version):
    with pytest.raises(SystemExit) as exited:
        main(["export", str(saved), "--repository", str(tmp_path / "repo"), "--name", "m", "--version", version])
    assert exited.value.code == 2 and "must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "repo" / "m" / version).exists()


def test_an_existing_version_is_never_overwritten(saved, tmp_path, capsys):
    arguments = ["export", str(saved), "--repository", str(tmp_path / "repo"), "--name", "m", "--version", "3"]
    assert main(arguments) == 0
    assert main(arguments) == 2 and "exists already; versions are never overwritten" in capsys.readouterr().err


def test_concurrent_exports_take_distinct_versions_without_a_traceback(saved, tmp_path):
    repository = tmp_path / "repo"
    command = [
        sys.executable,
        "-m",
        "tinygrad_maas",
        "export",
        str(saved),
        "--repository",
        str(repository),
        "--name",
        "m",
    ]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in processes]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert not any("Traceback" in err for _, _, err in results)
    assert sorted(os.listdir(repository / "m")) == ["1", "2", "3", "4", "5", "6"]  # no staging folder left
    assert sorted(int(out.split(" version ")[1].split()[0]) for _, out, _ in results) == [1, 2, 3, 4, 5, 6]


def test_the_staging_folder_of_a_killed_export_is_removed_by_the_next(saved, tmp_path):
    repository = tmp_path / "repo"
    assert main(["export", str(saved), "--repository", str(repository), "--name", "m"]) == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs: the export it stands for was killed
    abandoned = repository / "m" / f".export-{gone.pid}-deadbeef"
    abandoned.mkdir()
    (abandoned / "weights.safetensors").write_bytes(b"half a file")
    assert main(["export", str(saved), "--repository", str(repository), "--name", "m"]) == 0
    assert sorted(os.listdir(repository / "m")) == ["1", "2"]


def test_exported_and_saved_files_follow_the_umask(saved, tmp_path):
    import tinygrad_maas as tm

    previous = os.umask(0o022)
    try:
        assert main(["export", str(saved), "--repository", str(tmp_path / "repo"), "--name", "m"]) == 0
        tm.save({"w": tm.ones(2)}, tmp_path / "state.safetensors")
    finally:
        os.umask(previous)
    version = tmp_path / "repo" / "m" / "1"
    assert stat.S_IMODE(os.stat(version).st_mode) == 0o755
    for path in (
        version / "architecture.json",
        version / "weights.safetensors",
        tmp_path / "state.safetensors",
        saved / "weights.safetensors",
        saved / "architecture.json",
    ):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, path
