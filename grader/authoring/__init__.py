"""Authoring a course: validating it against its solutions and twins, and scaffolding new exercises."""
