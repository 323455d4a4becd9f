"""The modules of tests/browser/run.py (the entry point; its docstring says what the test does):

- config:  paths, host names, the token's lifetime and the other constants, Chromium's flags, log;
- clips:   the clips the page uploads and the stand-ins' recordings, made with ffmpeg once;
- servers: the local stack (`vivid-local`): the API, and the study page (web/) it serves on the
           front end's origin;
- steps:   a run of named steps with checks that let a step go on, its artifacts on failure, and
           helpers for the page's answers;
- flow:    the study flow itself, step by step, each with its assertions.
- study:   the study page's own steps: served by the stack, drawing over the playing video,
           bookmarks and search, an invitation's link.
- lti:     the page inside an LMS (tests/lti/platform.py): the tool registered, an instructor's
           launch and a lecture, a learner's course page framing the tool in a Chromium that
           blocks third-party cookies, the lecture playing there.
"""
