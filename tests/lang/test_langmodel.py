"""The memory-mapped language model (monitor.langmodel): same answers, one shared copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import langmodel
from tests.lang.test_lang import LEADS


def _ranks(identifier: object) -> list[object]:
    return [identifier.rank(text)[:3] for text in LEADS.values()]  # type: ignore[attr-defined]


def _in_memory() -> object:
    from py3langid.langid import LanguageIdentifier  # type: ignore[import-untyped]

    return LanguageIdentifier.from_model_file(langmodel._model_file(), norm_probs=True)


def test_mapped_model_answers_as_the_packed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(langmodel.CACHE_ENV, str(tmp_path / "cache"))
    mapped = langmodel.load_identifier()
    assert isinstance(mapped.tk_nextmove, memoryview)  # really mapped, not the fallback
    assert _ranks(mapped) == _ranks(_in_memory())
    (unpacked,) = (tmp_path / "cache").iterdir()
    assert sorted(p.name for p in unpacked.iterdir()) == [
        "classes.json",
        "nextmove.npy",
        "nextmove_row.npy",
        "out_feat.npy",
        "pc.npy",
        "ptc.npy",
    ]
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"


def test_a_damaged_cache_is_unpacked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(langmodel.CACHE_ENV, str(tmp_path))
    langmodel.load_identifier()
    (unpacked,) = tmp_path.iterdir()
    (unpacked / "ptc.npy").write_bytes(b"\x93NUMPY truncated")
    again = langmodel.load_identifier()
    assert isinstance(again.tk_nextmove, memoryview)
    assert _ranks(again) == _ranks(_in_memory())


def test_a_cache_directory_that_is_not_ours_is_not_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert not langmodel._private_dir(link)
    afile = tmp_path / "file"
    afile.write_text("x")
    assert not langmodel._private_dir(afile)
    assert langmodel._private_dir(tmp_path / "fresh" / "dir")


def test_without_a_writable_cache_the_model_loads_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(langmodel, "cache_roots", lambda: [tmp_path / "a-file" / "below"])
    (tmp_path / "a-file").write_text("x")
    identifier = langmodel.load_identifier()
    assert not isinstance(identifier.tk_nextmove, memoryview)
    assert identifier.rank(LEADS["fr"])[0][0] == "fr"


def _pss_kib(pid: int, name: str) -> int:
    """Proportional set size of the mappings of files called `name` in process `pid`."""
    total, inside = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:  # a mapping's header line
            inside = line.endswith(name)
        elif inside and head[0] == "Pss:":
            total += int(head[1])
    return total


def _detector(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process that has detected the language of every lead and then waits for stdin."""
    code = (
        "import sys\n"
        "from monitor.lang import detect_language\n"
        "from tests.lang.test_lang import LEADS\n"
        "for text in LEADS.values(): detect_language('', text)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=root,
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc smaps")
def test_two_processes_share_one_copy(tmp_path: Path) -> None:
    """Two detectors in separate processes are charged about half of the model's pages each."""
    env = {**os.environ, langmodel.CACHE_ENV: str(tmp_path)}
    with _detector(env) as first:
        alone = _pss_kib(first.pid, "nextmove.npy")
        with _detector(env) as second:
            shared = _pss_kib(first.pid, "nextmove.npy")
            second.kill()
        first.kill()
    assert alone > 0
    assert shared < alone * 0.75, (alone, shared)


def test_a_second_unpack_of_the_same_model_keeps_the_first(tmp_path: Path) -> None:
    """Two workers starting together both unpack; the one that renames second uses the first's."""
    target = tmp_path / "langid-x"
    langmodel._unpack(langmodel._model_file(), target)
    first = (target / "ptc.npy").stat().st_mtime_ns
    langmodel._unpack(langmodel._model_file(), target)  # its rename fails: target exists
    assert (target / "ptc.npy").stat().st_mtime_ns == first
    assert [p.name for p in tmp_path.iterdir()] == ["langid-x"]  # no temporary left behind
