"""Benchmarks of the Sohar sandbox mock, side by side with Prism (`python -m bench`)."""
