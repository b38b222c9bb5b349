"""Scenario files: payers, a payer's roster of members, and outcome rules."""

from .loader import ScenarioError, load_file, load_text
from .model import ROSTER, Coverage, Member, Outcome, Payer, Rule, ScenarioFile
from .registry import ScenarioRegistry
from .resolver import Decision, Resolution, ScenarioSet, fold_name

__all__ = [
    "ROSTER",
    "Coverage",
    "Decision",
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
