"""Views of a list of edits: the side-by-side model, the HTML report, the terminal diff, review, exports."""
