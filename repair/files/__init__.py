"""Reading inputs and writing outputs: text files and the edit list (edits.json)."""
