"""Scenario files: payers, a payer's roster of members, and outcome rules."""

from .loader import ScenarioError, Section, SectionPlace, load_file, load_text, scenario_date
from .model import (
    NETWORK_STATUSES,
    PROVIDER_KINDS,
    ROSTER,
    US_STATES,
    Coverage,
    DeclaredProvider,
    Label,
    Member,
    NetworkRule,
    Outcome,
    Payer,
    ProviderGroup,
    Rule,
    ScenarioFile,
)
from .registry import ScenarioRegistry
from .resolver import Decision, EnrolledCheck, Resolution, ScenarioSet, fold_name

__all__ = [
    "NETWORK_STATUSES",
    "PROVIDER_KINDS",
    "ROSTER",
    "US_STATES",
    "Coverage",
    "Decision",
    "DeclaredProvider",
    "EnrolledCheck",
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
    "Section",
    "SectionPlace",
    "fold_name",
    "load_file",
    "load_text",
    "scenario_date",
]
