"""Grading one submission: the lanes of sandboxed children, the reference store, the checks run per exercise."""
