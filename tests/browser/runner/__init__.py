"""The modules of tests/browser/run.py (the entry point; its docstring says what the test does):

- config:  paths, host names, the token's lifetime and the other constants, Chromium's flags, log;
- clips:   the clips the page uploads and the stand-ins' recordings, made with ffmpeg once;
- servers: the page's origin (a static server for tests/browser/ with /config.js) and the local
           stack (`vivid-local`) the API runs in;
- steps:   a run of named steps with checks that let a step go on, its artifacts on failure, and
           helpers for the page's answers;
- flow:    the study flow itself, step by step, each with its assertions.
"""
