"""Fitting the model to the 2019-2020 record by approximate Bayesian computation.

The modules, each importing only those before it:

- `record`: the event record (``data/events_2019_2020.csv``) and the summary statistics;
- `apmc`: the ABC algorithm (adaptive population Monte Carlo), knowing nothing of the model;
- `spec`: the calibration file (``experiments/calibrate_2020.toml``) and `load_calibration`;
- `outputs`: what follows from the posterior: calibrated scenario, predictive check, forecast;
- `figures` and `report`: what a calibration shows;
- `pipeline`: `calibrate`, the whole calibration (`escalation calibrate FILE`).
"""

from sim.calibration.pipeline import calibrate
from sim.calibration.spec import Calibration, load_calibration

__all__ = ["Calibration", "calibrate", "load_calibration"]
