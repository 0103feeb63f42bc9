"""repair: find where a text was damaged by a machine and repair it, with evidence for every change."""

from repair.corpus.repairer import Repairer
from repair.edits import Edit, Evidence, apply_edits
from repair.lm import LanguageModel, load_model
from repair.pipeline import Result, repair_text

__all__ = ["Edit", "Evidence", "LanguageModel", "Repairer", "Result", "apply_edits", "load_model", "repair_text"]
__version__ = "0.1.0"
