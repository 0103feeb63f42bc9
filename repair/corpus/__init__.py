"""Many texts at once: folders and JSONL in parallel, big files in chunks, finding references, a cluster."""
