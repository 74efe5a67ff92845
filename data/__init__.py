"""The dataset builder: game records to deduplicated, split, memory-mapped arrays."""
