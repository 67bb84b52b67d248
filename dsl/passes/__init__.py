"""IR passes: each a function from IR to IR or to a report."""
