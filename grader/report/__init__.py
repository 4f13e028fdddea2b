"""Reports made from the Result tree (terminal now; JSON is :func:`grader.results.to_json`)."""
