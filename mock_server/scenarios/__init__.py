"""Scenario files: payers, a payer's roster of members, and outcome rules."""

from .discovery import DiscoveryDecision, DiscoveryResolution, FoundCoverage
from .loader import ScenarioError, load_file, load_text
from .model import (
    NETWORK_STATUSES,
    PROVIDER_KINDS,
    ROSTER,
    US_STATES,
    Coverage,
    CoverageRef,
    DeclaredProvider,
    DiscoveryOutcome,
    DiscoveryRule,
    Label,
    Member,
    NetworkRule,
    Outcome,
    Payer,
    ProviderGroup,
    Rule,
    ScenarioFile,
)
from .names import fold_name
from .registry import ScenarioRegistry
from .resolver import Decision, EnrolledCheck, Resolution, ScenarioSet

__all__ = [
    "NETWORK_STATUSES",
    "PROVIDER_KINDS",
    "ROSTER",
    "US_STATES",
    "Coverage",
    "CoverageRef",
    "Decision",
    "DeclaredProvider",
    "DiscoveryDecision",
    "DiscoveryOutcome",
    "DiscoveryResolution",
    "DiscoveryRule",
    "EnrolledCheck",
    "FoundCoverage",
    "Label",
    "Member",
    "NetworkRule",
    "Outcome",
    "Payer",
    "ProviderGroup",
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
