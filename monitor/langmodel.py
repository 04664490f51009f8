"""py3langid's model, memory-mapped so every worker process shares one copy.

py3langid ships its model LZMA-compressed; loading it unpacks ~65 MB of arrays into each process
that detects languages (every work-pool worker). :func:`load_identifier` unpacks the arrays once
into a cache directory as plain ``.npy`` files and maps them read-only: the pages come from the
page cache, shared by all workers, and only the pages a text touches become resident. The
cache is keyed by the model file's hash, written to a temporary directory and renamed into
place (concurrent workers never see half a cache; a damaged one is unpacked again), and only
used from a directory owned by this user (`MONITOR_CACHE_DIR`, else the XDG cache, else the
temporary directory). Where none can be written, the model is loaded into memory as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
CACHE_ENV = "MONITOR_CACHE_DIR"
_ARRAYS = ("ptc", "pc", "nextmove", "nextmove_row", "out_feat")


def cache_roots() -> list[Path]:
    """Where the unpacked model may live, most specific first."""
    roots = []
    if os.environ.get(CACHE_ENV):
        roots.append(Path(os.environ[CACHE_ENV]))
    xdg = os.environ.get("XDG_CACHE_HOME")
    roots.append(Path(xdg) / "news-monitor" if xdg else Path.home() / ".cache" / "news-monitor")
    roots.append(Path(tempfile.gettempdir()) / f"news-monitor-{os.getuid()}")
    return roots


def _private_dir(path: Path) -> bool:
    """Create `path` (mode 0700) if needed; True if it is a real directory this user owns."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and os.access(path, os.W_OK)


def _model_file() -> Path:
    from py3langid.langid import MODEL_DIR, MODEL_FILE  # type: ignore[import-untyped]

    return Path(MODEL_DIR) / str(MODEL_FILE)


def _unpack(model: Path, target: Path) -> None:
    """Write the model's arrays under `target` (atomically: a sibling temporary, then rename)."""
    from py3langid.modelio import load_model  # type: ignore[import-untyped]

    ptc, pc, classes, nextmove, row, output = load_model(model)
    work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        arrays: dict[str, Any] = {
            "ptc": ptc,
            "pc": pc,
            "nextmove": np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
            "nextmove_row": np.frombuffer(row, dtype=f"u{row.itemsize}"),
            "out_feat": np.asarray(output, dtype=np.int32),
        }
        for name, array in arrays.items():
            np.save(work / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (work / "classes.json").write_text(json.dumps(classes), encoding="utf-8")
        try:
            work.rename(target)
        except OSError:  # another process got there first: use its copy
            if not (target / "classes.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mapped(directory: Path) -> Any:
    from py3langid.langid import LanguageIdentifier

    arrays = {
        n: np.load(directory / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in _ARRAYS
    }
    classes = json.loads((directory / "classes.json").read_text(encoding="utf-8"))
    return LanguageIdentifier(
        arrays["ptc"],
        np.asarray(arrays["pc"]),
        classes,
        memoryview(arrays["nextmove"]),  # indexed one byte of text at a time: plain ints
        memoryview(arrays["out_feat"]),
        norm_probs=True,
        tk_row=memoryview(arrays["nextmove_row"]),
    )


def load_identifier() -> Any:
    """A py3langid ``LanguageIdentifier`` (normalised probabilities), mapped where possible."""
    from py3langid.langid import LanguageIdentifier

    model = _model_file()
    try:
        digest = hashlib.sha256(model.read_bytes()).hexdigest()[:20]
        for root in cache_roots():
            if not _private_dir(root):
                continue
            directory = root / f"langid-{digest}"
            if (directory / "classes.json").is_file():
                try:
                    return _mapped(directory)
                except (OSError, ValueError) as exc:  # damaged: unpack it again
                    log.warning(
                        "language model cache unreadable, unpacking it again path=%s error=%s",
                        directory,
                        exc,
                    )
                    shutil.rmtree(directory, ignore_errors=True)
            _unpack(model, directory)
            return _mapped(directory)
    except (OSError, ValueError) as exc:
        log.debug("language model not mapped, loading it in memory error=%s", exc)
    return LanguageIdentifier.from_model_file(model, norm_probs=True)
