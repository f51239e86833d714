"""Models: panel regressions (linearmodels), inspection-level ordered logit and LPM (statsmodels),
event study, specification curve. Every fit is described by a validated :class:`ModelSpec`."""
