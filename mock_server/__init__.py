"""The local Sohar sandbox: a spec-driven fake of the Sohar Health eligibility API."""

__version__ = "0.1.0"
