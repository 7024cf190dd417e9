"""Calibration of the simulator to Mexico's homicide history: panels read alike from real data
and from runs (:mod:`.panel`, :mod:`.real`, :mod:`.simulated`), their summary statistics
(:mod:`.summaries`), a sensitivity screen (:mod:`.screen`) and ABC-SMC estimation
(:mod:`.estimate`)."""
