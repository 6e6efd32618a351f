"""Helpers every stage shares and none owns: errors, config value parsing, durations, paths and
project discovery, plug-in loading and tunables (``Param``), TOML reading, safe file names and atomic writes,
size limits, lazy package exports,
numba cache hygiene and the matplotlib set-up. Nothing here imports a stage."""
