"""Renderers: each a pure function of a Report (terminal via rich, markdown via tabulate, JSON)."""
