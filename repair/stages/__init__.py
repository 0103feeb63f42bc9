"""The arrows of the pipeline: normalize, align (then label and witness), detect, propose, decide, one public
function each, frozen dataclasses in and out, each with its frozen settings (gathered by `settings`)."""
