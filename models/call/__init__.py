"""Call definitions: the schema of a call file (`schema`) and its loading with one clear line per problem
(`loading`)."""

from models.call.closes import STEP_PREFIX, AfterClose, CloseOverride, CloseValue, Party, Who, cohort_of, who_problem
from models.call.documents import PaperDocument
from models.call.loading import CallFileError, load_call, parse_call
from models.call.quota import MinShare, QuotaDef
from models.call.review import Criterion, DefenceDef, ReviewDef, StageDef
from models.call.schema import (
    PHASE_ORDER,
    REQUIRED_KINDS,
    ROLES,
    AfterOpening,
    CalendarYear,
    CallDefinition,
    CategoryDef,
    FlagDef,
    Intake,
    PhaseDef,
    PhaseKind,
    Role,
    StepDeadline,
    StepDef,
    WorkingHours,
    definition_from_json,
    shared,
)
from models.rules import AttachmentDef, RuleDef

__all__ = [
    "PHASE_ORDER", "REQUIRED_KINDS", "ROLES", "AfterOpening", "AttachmentDef", "CalendarYear", "CallDefinition",
    "CallFileError", "CategoryDef", "Criterion", "FlagDef", "Intake", "MinShare", "PaperDocument", "PhaseDef",
    "DefenceDef", "PhaseKind", "QuotaDef", "ReviewDef", "Role", "RuleDef", "StageDef",
    "StepDeadline", "StepDef", "WorkingHours", "definition_from_json", "load_call", "parse_call", "shared",
    "STEP_PREFIX", "AfterClose", "CloseOverride", "CloseValue", "Party", "Who", "cohort_of", "who_problem",
]
