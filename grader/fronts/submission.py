"""Load a submission into a private working folder of .py modules for the child.

A submission is a folder of .py files and/or notebooks, a .zip of those, or a single notebook. Only
regular .py and .ipynb files are taken (no symlinks, nothing outside the folder), within size caps. When
grading a course, notebooks are handed to :mod:`.notebooks` (graded by what they define); otherwise a
notebook's code cells become the module named after it, with shell (``!``), magic (``%``) and help
(``np.exp?``) lines dropped, and cells under a cell magic (``%%bash``) dropped whole. Archives are checked
before anything is extracted: absolute paths, ``..``, symlinks, odd file names, encrypted or oddly
compressed, oversized or over-compressed members, names clashing as file and folder are refused with a
message naming the member. Folders meet the same caps (files, bytes, path depth) before anything is
copied. Every failure is a SubmissionError, and no temporary folder outlives a refused submission.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..model.errors import SubmissionError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 500
MAX_RATIO = 100
"""Largest uncompressed/compressed size ratio of an archive member (a zip bomb goes far beyond)."""
MAX_PATH_PARTS = 8
"""Deepest path of a taken file, folders included (``pkg/sub/layers.py`` has 3 parts)."""
MAX_PATH_CHARS = 255
"""Longest relative path of a taken file."""
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
           zipfile.ZIP_LZMA: "lzma"}
"""Compression methods an archive member may use (zipfile knows no others)."""
HELP_LINE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
"""IPython's help syntax: ``np.exp?``, ``np.exp??``, ``?np.exp`` (not Python: dropped like magics)."""
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
TAKEN = (".py", ".ipynb")


def modules_in(folder: Path) -> list[Path]:
    """The submission's .py and .ipynb files, relative to it, skipping caches, hidden folders and links.

    Raises:
        SubmissionError: more than MAX_MEMBERS files, or one nested deeper than the caps (the walk stops
            there: a folder of 17,500 files would overflow the child's private /tmp).
    """
    found = []
    for top, dirs, files in os.walk(folder, onerror=_walk_error):  # never follows links to folders
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = Path(top, name)
            if path.suffix not in TAKEN or name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(folder)
            _check_path(rel, str(rel))
            found.append(rel)
            if len(found) > MAX_MEMBERS:
                raise SubmissionError(f"{folder}: more than {MAX_MEMBERS} .py/.ipynb files; "
                                      f"a submission may have at most {MAX_MEMBERS}")
    return sorted(found)


def _walk_error(e: OSError) -> None:
    raise SubmissionError(f"{e.filename}: cannot be read ({e.strerror or e})")


def _check_path(rel: PurePosixPath | Path, where: str) -> None:
    """Refuse paths deeper or longer than the caps."""
    if len(rel.parts) > MAX_PATH_PARTS:
        raise SubmissionError(f"{where}: nested {len(rel.parts)} deep; at most {MAX_PATH_PARTS} path parts allowed")
    if len(str(rel)) > MAX_PATH_CHARS:
        raise SubmissionError(f"{where}: a path of {len(str(rel))} characters; at most {MAX_PATH_CHARS} allowed")


def notebook_to_module(source: str, name: str) -> str:
    """The code cells of a notebook as one module; shell, magic and help lines become comments, and so
    does every line of a cell under a cell magic (``%%bash``: not Python at all). Lines keep their
    numbers within a cell, so error messages still point at the learner's line.

    Raises:
        SubmissionError: the file is not JSON, or not shaped like a notebook.
    """
    cells = []
    for i, text in read_cells(source, name):
        raw = text.splitlines()
        whole = bool(raw) and raw[0].lstrip().startswith("%%")
        lines = [f"# (dropped) {ln}" if whole or _not_python(ln) else ln for ln in raw]
        cells.append(f"# --- cell {i - 1} ---\n" + "\n".join(lines))
    return "\n\n".join(cells) + "\n"


def read_cells(source: str, name: str) -> list[tuple[int, str]]:
    """The notebook's code cells as (position counted from 1, markdown cells included; source text).

    Raises:
        SubmissionError: the file is not JSON, or not shaped like a notebook.
    """
    try:
        return _cells(source)
    except SubmissionError:
        raise
    except Exception as e:  # nbformat and json raise many kinds (RecursionError on deep JSON too)
        raise SubmissionError(f"{name}: not a readable notebook ({type(e).__name__}: {str(e)[:200]})") from None


def _cells(source: str) -> list[tuple[int, str]]:
    import nbformat  # only notebooks pay for its import

    data = json.loads(source)  # first, so that malformed JSON fails here, bounded by the file-size cap
    if not isinstance(data, dict) or not isinstance(data.get("nbformat"), int):
        raise ValueError("not a notebook object (no nbformat version)")
    with warnings.catch_warnings():  # e.g. cells without ids, from older Jupyter: still readable
        warnings.simplefilter("ignore")
        nb = nbformat.reads(source, as_version=4)
    if not isinstance(nb.get("cells"), list):
        raise ValueError("'cells' is not a list")
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"cell {i} is not a cell")
        if cell["cell_type"] != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) and all(isinstance(t, str) for t in text) else text
        if not isinstance(text, str):
            raise ValueError(f"cell {i} has no source text")
        cells.append((i + 1, text))
    return cells


def _not_python(line: str) -> bool:
    """Shell (``!ls``), magic (``%time``) and help (``np.exp?``) lines of IPython."""
    return line.lstrip().startswith(("!", "%")) or bool(HELP_LINE.match(line))


def _check_member(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath | None:
    """The member's safe relative path, None for members to ignore, or SubmissionError if unsafe."""
    name = info.filename
    where = f"{archive.name}: member {name!r}"
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise SubmissionError(f"{where}: absolute or Windows path refused")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise SubmissionError(f"{where}: a path leaving the archive ('..') is refused (zip slip)")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise SubmissionError(f"{where}: symbolic links are refused")
    if info.is_dir():
        return None
    if path.suffix not in TAKEN or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    if not all(SAFE_NAME.match(part) for part in path.parts):
        raise SubmissionError(f"{where}: file names may use letters, digits, '_', '-' and '.' only")
    _check_path(path, where)
    if info.flag_bits & 0x1:
        raise SubmissionError(f"{where}: encrypted members are refused")
    if info.compress_type not in METHODS:
        raise SubmissionError(f"{where}: compression method {info.compress_type} is not supported "
                              f"(use {', '.join(METHODS.values())})")
    if info.file_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{where}: {info.file_size} bytes, more than {MAX_FILE_BYTES} allowed")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 100_000:
        raise SubmissionError(f"{where}: compressed more than {MAX_RATIO}:1 (a zip bomb?)")
    return path


def extract(archive: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except Exception as e:  # BadZipFile, OSError, and odd ones (ValueError, NotImplementedError...)
        raise SubmissionError(f"{archive.name}: not a readable zip archive ({type(e).__name__}: {e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SubmissionError(f"{archive.name}: {len(infos)} members, more than {MAX_MEMBERS} allowed")
        chosen = [(info, p) for info in infos if (p := _check_member(info, archive)) is not None]
        _check_clashes(chosen, archive)
        total = 0
        for info, rel in chosen:
            target = dest.joinpath(*rel.parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 16):  # the header's size is not trusted: count what comes out
                        total += len(chunk)
                        if total > MAX_TOTAL_BYTES or out.tell() + len(chunk) > MAX_FILE_BYTES:
                            raise SubmissionError(f"{archive.name}: member {info.filename!r} expands beyond the limits")
                        out.write(chunk)
            except SubmissionError:
                raise
            except Exception as e:  # bad CRC, bad deflate data (zlib.error), truncated archive...
                reason = "corrupt compressed data: " if isinstance(e, zlib.error) else f"{type(e).__name__}: "
                raise SubmissionError(f"{archive.name}: member {info.filename!r} cannot be extracted "
                                      f"({reason}{str(e)[:200]})") from None


def _check_clashes(chosen: list[tuple[zipfile.ZipInfo, PurePosixPath]], archive: Path) -> None:
    """Refuse a name taken twice, or taken as a file and as a folder (``x.py`` and ``x.py/y.py``)."""
    files = {}
    for info, rel in chosen:
        if rel in files:
            raise SubmissionError(f"{archive.name}: member {info.filename!r} appears twice")
        files[rel] = info
    for info, rel in chosen:
        for parent in rel.parents:
            if parent in files:
                raise SubmissionError(f"{archive.name}: member {files[parent].filename!r} is both a file and the "
                                      f"folder of {info.filename!r}")


def check_size(path: Path, size: int, total: int) -> None:
    if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
        raise SubmissionError(f"{path}: the submission is too large "
                              f"(at most {MAX_FILE_BYTES >> 20} MiB a file, {MAX_TOTAL_BYTES >> 20} MiB in all)")


def code_root(source: Path, modules: set[str]) -> Path:
    """The folder of the submission that holds the course's code: ``source`` itself, or the folder
    below it with the most course modules (``hw1/src/`` in a zip of the learner's project), the
    shallowest on a tie."""
    hits: dict[PurePosixPath, int] = {}
    for rel in modules_in(source):
        if rel.suffix == ".py" and rel.stem in modules:
            parent = PurePosixPath(rel.parent.as_posix())
            hits[parent] = hits.get(parent, 0) + 1
    best = min(hits, key=lambda d: (-hits[d], len(d.parts)), default=PurePosixPath("."))
    return source if best == PurePosixPath(".") else source / best


def require_course_code(workdir: Path, modules: set[str], notebooks: int, submission: Path) -> None:
    """A submission with no code, or with .py files none of which is a course module and no notebook,
    is a usage error naming what was found, not a score of 0 with one message per exercise.

    Raises:
        SubmissionError: as above.
    """
    found = {p.relative_to(workdir).as_posix() for p in workdir.rglob("*.py")}
    if notebooks or any(Path(f).stem in modules for f in found):
        return
    if not found:
        entries = sorted(p.name for p in submission.iterdir())[:8] if submission.is_dir() else []
        raise SubmissionError(f"{submission}: no .py or .ipynb file found"
                              + (f" (found: {', '.join(entries)})" if entries else " (it is empty)")
                              + f"; a submission holds the course's modules ({_listing(modules)}) or notebooks")
    raise SubmissionError(f"{submission}: found {_listing(found)}, but none is a module of the course "
                          f"({_listing(modules)}) and there is no notebook")


def _listing(names: set[str], most: int = 6) -> str:
    shown = sorted(names)
    text = ", ".join(n if "." in n else f"{n}.py" for n in shown[:most])
    return text + (f" and {len(shown) - most} more" if len(shown) > most else "")


def copy_modules(source: Path, workdir: Path, by_definitions: bool = False) -> list[tuple[Path, str]]:
    """Check every cap over the whole list of taken files first, then copy them.

    With ``by_definitions``, notebooks are not converted but returned as (relative path, text), for
    :mod:`.notebooks` to map by what they define; without, a notebook becomes the module named after it."""
    rels = modules_in(source)
    total = 0
    for rel in rels:
        size = (source / rel).stat().st_size
        total += size
        check_size(source / rel, size, total)
    notebooks = []
    for rel in rels:
        if rel.suffix == ".ipynb" and by_definitions:
            notebooks.append((rel, (source / rel).read_text(encoding="utf-8", errors="replace")))
            continue
        if rel.suffix == ".ipynb":
            if not rel.stem.isidentifier():
                raise SubmissionError(f"{rel}: a notebook's name must be a Python module name (e.g. layers.ipynb)")
            dest = workdir / rel.with_suffix(".py")
            if dest.exists():
                raise SubmissionError(f"{rel}: both {rel.stem}.py and {rel.name} exist; keep one")
            text = (source / rel).read_text(encoding="utf-8", errors="replace")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(notebook_to_module(text, str(rel)))
        else:
            dest = workdir / rel
            if dest.exists():
                raise SubmissionError(f"{rel}: both {rel.name} and {rel.stem}.ipynb exist; keep one")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, dest)
        os.chmod(dest, 0o644)
    return notebooks
