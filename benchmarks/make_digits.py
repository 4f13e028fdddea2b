"""Write grader/data/digits.npz once from scikit-learn's bundled 8x8 digits (the `digits` extra).

The package ships the result so that learners without scikit-learn train on the very same 1,797 images;
the images are UCI's "Optical Recognition of Handwritten Digits" (CC BY 4.0, see grader/data/LICENSE).
Run: python benchmarks/make_digits.py   (the file it writes is byte-for-byte reproducible)
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "grader" / "data" / "digits.npz"


def main() -> None:
    digits = load_digits()
    images = digits.data.astype(np.uint8)          # (1797, 64), values 0..16
    labels = digits.target.astype(np.uint8)        # (1797,)
    assert images.max() <= 16 and images.shape == (1797, 64)
    order = np.random.default_rng(0).permutation(len(labels)).astype(np.uint16)  # the fixed split's order
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, labels=labels, order=order)
    OUT.write_bytes(buf.getvalue())
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
