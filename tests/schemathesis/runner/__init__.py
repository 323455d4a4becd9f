"""The modules of tests/schemathesis/run.py (the entry point; its docstring says what a run does):

- config: paths, knobs and constants, log;
- stack:  the one-second clip and the local stack (`vivid-local`) the passes run against;
- seed:   the world seeded through the API (users, a space, a READY video, notes, connectors,
          tokens) and each pass's disposable resources;
- passes: one `schemathesis run` per pass: its config, auth file and arguments, the run, the counts
          of its `Test cases:` line.
"""
