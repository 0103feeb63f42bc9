"""repair: find where a text was damaged by a machine and repair it, with evidence for every change."""

from repair.edits import Edit, Evidence, apply_edits
from repair.pipeline import Result, repair_text

__all__ = ["Edit", "Evidence", "Result", "apply_edits", "repair_text"]
__version__ = "0.1.0"
