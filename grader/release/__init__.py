"""What an instructor ships: the learners' stubs made from the solutions, the Gradescope autograder bundle."""
