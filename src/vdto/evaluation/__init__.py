"""Evaluating interventions on homicide panels: the interventions file, the panels, a staggered
event study, synthetic control, spillovers and placebo checks (pure functions over frames and
arrays; the services read the store and the files)."""
