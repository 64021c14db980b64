"""Evaluation: calibration now; Q&A sets, metrics and public suites build on it (python -m evals ...)."""
