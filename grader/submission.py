"""Load a submission into a private working folder of .py modules for the child.

A submission is a folder of .py files and/or notebooks, a .zip of those, or a single notebook. Only
regular .py and .ipynb files are taken (no symlinks, nothing outside the folder), within size caps; a
notebook's code cells become the module named after it, with shell (``!``) and magic (``%``) lines
dropped. Archives are checked before anything is extracted: absolute paths, ``..``, symlinks, odd file
names, oversized or over-compressed members are refused with a message naming the member.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath

from .errors import SubmissionError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 500
MAX_RATIO = 100
"""Largest uncompressed/compressed size ratio of an archive member (a zip bomb goes far beyond)."""
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
TAKEN = (".py", ".ipynb")


def modules_in(folder: Path) -> list[Path]:
    """The submission's .py and .ipynb files, relative to it, skipping caches, hidden folders and links."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.suffix not in TAKEN or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        found.append(rel)
    return found


def notebook_to_module(source: str, name: str) -> str:
    """The code cells of a notebook as one module; shell and magic lines become comments (lines keep
    their numbers within a cell, so error messages still point at the learner's line)."""
    import nbformat  # only notebooks pay for its import

    try:
        with warnings.catch_warnings():  # e.g. cells without ids, from older Jupyter: still readable
            warnings.simplefilter("ignore")
            nb = nbformat.reads(source, as_version=4)
    except Exception as e:  # nbformat raises several kinds on malformed JSON
        raise SubmissionError(f"{name}: not a readable notebook ({type(e).__name__}: {e})") from None
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = [f"# (dropped) {ln}" if ln.lstrip().startswith(("!", "%")) else ln for ln in cell.source.splitlines()]
        cells.append(f"# --- cell {i} ---\n" + "\n".join(lines))
    return "\n\n".join(cells) + "\n"


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
    if info.file_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{where}: {info.file_size} bytes, more than {MAX_FILE_BYTES} allowed")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 100_000:
        raise SubmissionError(f"{where}: compressed more than {MAX_RATIO}:1 (a zip bomb?)")
    return path


def _extract(archive: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise SubmissionError(f"{archive.name}: not a readable zip archive ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SubmissionError(f"{archive.name}: {len(infos)} members, more than {MAX_MEMBERS} allowed")
        chosen = [(info, p) for info in infos if (p := _check_member(info, archive)) is not None]
        total = 0
        for info, rel in chosen:
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 16):  # the header's size is not trusted: count what comes out
                    total += len(chunk)
                    if total > MAX_TOTAL_BYTES or out.tell() + len(chunk) > MAX_FILE_BYTES:
                        raise SubmissionError(f"{archive.name}: member {info.filename!r} expands beyond the limits")
                    out.write(chunk)


def prepare_workdir(submission: Path) -> Path:
    """Copy (or extract, or convert) the submission's modules into a fresh temporary folder; return it.

    Raises:
        SubmissionError: the submission is missing, unsafe or too large; the message names the file.
    """
    submission = Path(submission)
    if not submission.exists():
        raise SubmissionError(f"{submission}: no such file or folder")
    workdir = Path(tempfile.mkdtemp(prefix="grader-sub-"))
    try:
        if submission.is_dir():
            source = submission
        elif submission.suffix == ".zip":
            source = Path(tempfile.mkdtemp(prefix="grader-zip-"))
            _extract(submission, source)
        elif submission.suffix == ".ipynb":
            source = Path(tempfile.mkdtemp(prefix="grader-nb-"))
            shutil.copyfile(submission, source / submission.name)
        else:
            raise SubmissionError(f"{submission}: a submission is a folder, a .zip or a .ipynb notebook")
        _copy_modules(source, workdir)
        if source != submission:
            shutil.rmtree(source, ignore_errors=True)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    for d in [workdir, *(p for p in workdir.rglob("*") if p.is_dir())]:
        os.chmod(d, 0o755)
    return workdir


def _copy_modules(source: Path, workdir: Path) -> None:
    total = 0
    for rel in modules_in(source):
        size = (source / rel).stat().st_size
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{source / rel}: the submission is too large "
                                  f"(at most {MAX_FILE_BYTES >> 20} MiB a file, {MAX_TOTAL_BYTES >> 20} MiB in all)")
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
