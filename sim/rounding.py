"""Inputs that are the same on every machine: values rounded to 12 significant digits.

NumPy picks SIMD versions of exp, log and power (and LAPACK its kernels) for the CPU it runs on,
so the same call may differ in the last bit from one machine to another. A value drawn for a run
(a design value, a calibration particle) is therefore rounded to `SIGNIFICANT_DIGITS` when it is
made: every machine then runs the same inputs, the runs table stores them exactly, and
``escalation run --set PATH=VALUE`` with the stored value reproduces a run exactly.
"""

import numpy as np

SIGNIFICANT_DIGITS = 12


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (correctly rounded, as decimal text)."""
    return float(f"{value:.{digits - 1}e}")


def round_array(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Every element of ``values`` rounded by `round_significant`, as a float array."""
    flat = [round_significant(float(x), digits) for x in np.ravel(values)]
    return np.array(flat, dtype=float).reshape(np.shape(values))
