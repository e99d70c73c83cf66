"""Benchmarks of the reformatting pipeline: `uv run python -m benchmarks <name> [options]`.

See benchmarks/README.md. Results are written as JSON to benchmarks/results/ (git-ignored).
"""
