"""The CSV gradebook of a batch: one row per student, points per assignment, total."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..model.results import SubmissionResult


def gradebook_csv(results: dict[str, SubmissionResult], not_graded: Sequence[tuple[str, str]] = ()) -> str:
    """CSV text; assignment columns are the union over all results, in course order of first appearance.

    Entries of the submissions folder that were not graded follow, with status "not graded" and the
    reason, so that nobody is left out silently; a grading error's reason is its message."""
    columns: list[str] = []
    for r in results.values():
        for a in r.assignments:
            if a.id not in columns:
                columns.append(a.id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", *columns, "total", "max_points", "status", "reason"])
    for student in sorted(results):
        r = results[student]
        per = {a.id: a.points for a in r.assignments}
        status = "error" if r.error else ("pass" if r.passed else "incomplete")
        writer.writerow([student, *(f"{per.get(c, 0):g}" for c in columns), f"{r.points:g}", f"{r.max_points:g}", status,
                         r.error])
    for name, reason in not_graded:
        writer.writerow([name, *("" for _ in columns), "", "", "not graded", reason])
    return buf.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
