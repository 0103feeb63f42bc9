"""The arrows of the pipeline (normalize, align, detect, propose, decide), one public function each,
frozen dataclasses in and out."""
