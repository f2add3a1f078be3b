"""Fitting the model to the 2019-2020 record, checking the fit and forecasting from it.

The modules, each importing only those before it:

- `record`: the event record (``data/events_2019_2020.csv``), its coding rules, the statistics;
- `abc`: the ABC algorithm (population Monte Carlo), knowing nothing of the model;
- `spec`: the calibration file (``experiments/calibrate_2020.toml``) and `load_calibration`;
- `histories`: batches of runs through the runner, their statistics and their continuation;
- `sbc`: simulation-based calibration on the fit's prior draws;
- `skill`: weekly forecasts, the Poisson and Hawkes baselines, proper scores;
- `forecast`: the continued histories summarised; `figures`: what a calibration shows;
- `continuation`: what a forecast needs from a fit (``fit.json``) and `escalation forecast`;
- `outputs`: the calibrated scenario; `report`: ``report.md`` and ``report.json``;
- `pipeline`: `calibrate`, the whole calibration (`escalation calibrate FILE`).
"""

from sim.calibration.pipeline import calibrate
from sim.calibration.spec import Calibration, load_calibration

__all__ = ["Calibration", "calibrate", "load_calibration"]
