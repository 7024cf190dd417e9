"""Focused deterrence on people: cells and persons of a target organization, scored with uncertainty and kept private."""
