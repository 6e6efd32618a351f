"""The run stage: the drivers that wire the stages together.

``config`` parses a run config; ``plan`` decides the required series, the run end and coverage;
``runner`` simulates, evaluates and writes a run; ``folder`` is the results-folder service
(marked temp folder, atomic rename, orphan clean-up); ``phases`` times and shows progress;
``workers`` starts the helper process pools; ``api`` is the Python API (``ro.backtest``,
``ro.write``); ``scaffold`` is ``riskoff init``'s project template.
"""
