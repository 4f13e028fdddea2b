"""The course as a table: what ``grader list`` prints, and the README's course table (generated, and
tested against the README, so that it cannot drift from course.yml)."""
from __future__ import annotations

from ..model.course import Course


def course_markdown(course: Course) -> str:
    """One row per assignment: id and title, its exercises (by title), points."""
    rows = ["| assignment | exercises | points |", "| --- | --- | ---: |"]
    for a in course.assignments:
        names = ", ".join(e.title for e in a.exercises)
        rows.append(f"| {a.id} {a.title} | {names} | {sum(e.points for e in a.exercises):g} |")
    return "\n".join(rows) + "\n"


def course_lines(course: Course) -> list[str]:
    """One line per exercise, grouped by assignment: id, title, kind, points, target."""
    lines = []
    for a in course.assignments:
        lines.append(f"{a.id}  {a.title}")
        width = max(len(e.title) for e in a.exercises)
        for e in a.exercises:
            lines.append(f"  {e.id:<6} {e.title:<{width}}  {e.kind:<9} {e.points:>4g} pt  {e.target}")
    return lines
