"""Simulation of organizations under enforcement policies."""
