"""nn-grader: grade hand-written numpy neural-network code against PyTorch, precisely and visually."""

__version__ = "0.1.0"
