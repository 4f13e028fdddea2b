"""The CSV gradebook of a batch: one row per student, points per assignment and per exercise, total;
built from a streamed :class:`~grader.backs.classbook.ClassSummary`, never from every result at once."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from ..model.errors import GraderError
from .classbook import ClassSummary


def gradebook_csv(summary: ClassSummary, not_graded: Sequence[tuple[str, str]] = (),
                  roster: dict[str, dict[str, str]] | None = None) -> str:
    """CSV text: one row per student with points per assignment, total, status and reason, then one
    column per exercise ("1.10 Affine"), in course order of first appearance.

    Entries of the submissions folder that were not graded follow, with status "not graded" and the
    reason, so that nobody is left out silently; a grading error's reason is its message. With a roster
    (student identifier -> name, email), those columns follow the identifier, and a rostered student
    without a submission gets a row with status "no submission"."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    people = ["name", "email"] if roster is not None else []
    exercise_columns = [f"{i} {t}" for i, t in summary.titles.items()]
    writer.writerow(["student", *people, *summary.assignment_ids, "total", "max_points", "status", "reason",
                     *exercise_columns])

    def who(student: str) -> list[str]:
        if roster is None:
            return []
        entry = roster.get(student, {})
        return [entry.get("name", ""), entry.get("email", "")]

    blank_exercises = ["" for _ in exercise_columns]
    for line in sorted(summary.lines, key=lambda x: x.student):
        writer.writerow([line.student, *who(line.student),
                         *(f"{line.assignments.get(c, 0):g}" for c in summary.assignment_ids),
                         f"{line.points:g}", f"{line.max_points:g}", line.status, line.reason,
                         *(f"{line.exercises[i]:g}" if i in line.exercises else "" for i in summary.titles)])
    blank_assignments = ["" for _ in summary.assignment_ids]
    for name, reason in not_graded:
        writer.writerow([name, *who(name), *blank_assignments, "", "", "not graded", reason, *blank_exercises])
    present = {line.student for line in summary.lines} | {name for name, _ in not_graded}
    for student in sorted(set(roster or {}) - present):
        writer.writerow([student, *who(student), *blank_assignments, "", "", "no submission",
                         "in the roster, no submission found", *blank_exercises])
    return buf.getvalue()


def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """A roster CSV: a header with ``student`` (or ``id``), and optionally ``name`` and ``email``.

    Raises:
        GraderError: the file cannot be read or has no identifier column.
    """
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise GraderError(f"{path}: cannot read the roster ({e})") from None
    key = next((k for k in ("student", "id", "identifier") if rows and k in rows[0]), None)
    if key is None:
        raise GraderError(f"{path}: a roster needs a header row with a 'student' (or 'id') column")
    return {row[key].strip(): {"name": (row.get("name") or "").strip(), "email": (row.get("email") or "").strip()}
            for row in rows if (row.get(key) or "").strip()}
