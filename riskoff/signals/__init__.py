"""The signal stage: readings and regime states as of each decision instant.

``contract`` is what a signal module declares (``INPUTS``, ``PARAMS``, ``compute``), the helpers
it may use (``signal_frame``, ``states_from_levels``, ``hysteresis``, ...) and the discovery of
signal modules; ``evaluate`` runs a signal point in time on its own calendar and maps its output
onto another calendar. The built-in signals are plug-ins in the top-level ``signals/`` folder.
"""
