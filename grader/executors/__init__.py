"""Where grading runs: a pool of worker processes (a whole class); one child or lanes live in the engine."""
