"""Scenario files: payers, a payer's roster of members, and outcome rules."""

from .discovery import DiscoveryDecision, DiscoveryResolution, FoundCoverage
from .loader import ScenarioError, load_file, load_text
from .model import (
    COMPLETE,
    PENDING,
    ROSTER,
    Coverage,
    CoverageRef,
    DiscoveryOutcome,
    DiscoveryRule,
    Member,
    Outcome,
    Payer,
    Rule,
    ScenarioFile,
)
from .names import fold_name
from .registry import ScenarioRegistry
from .resolver import Decision, Resolution, ScenarioSet

__all__ = [
    "COMPLETE",
    "PENDING",
    "ROSTER",
    "Coverage",
    "CoverageRef",
    "Decision",
    "DiscoveryDecision",
    "DiscoveryOutcome",
    "DiscoveryResolution",
    "DiscoveryRule",
    "FoundCoverage",
    "Member",
    "Outcome",
    "Payer",
    "Resolution",
    "Rule",
    "ScenarioError",
    "ScenarioFile",
    "ScenarioRegistry",
    "ScenarioSet",
    "fold_name",
    "load_file",
    "load_text",
]
