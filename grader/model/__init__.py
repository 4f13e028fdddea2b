"""Plain data, imported by everything and importing nothing of the engine: the course, the
results, the values a child returns."""
