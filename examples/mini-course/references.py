"""This course's own torch twins: loaded by the grader (in the trusted parent only, never by learner code),
beside its built-in ones, and named in course.yml by the names given to @twin."""
import torch
import torch.nn.functional as F

from grader.references import twin


@twin("silu")
def silu(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


@twin("scale")
def scale(x: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """y = x * gamma, gamma of shape (D,) broadcast over the rows of x (N, D)."""
    return x * gamma
