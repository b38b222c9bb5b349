"""A partner's real-time eligibility API (98point6's RTE contract, openapi/partner-eligibility.yaml).

Another context beside Sohar's: its roster comes from the `partner:` section of scenario files,
its domain (model, names, roster, section, family, eligibility, render) has no HTTP, and its
adapters (http, admin) sit at the API layer. Nothing here is Sohar-specific, and nothing of
Sohar's knows this package beyond the composition root and the app's route list.
"""
