"""scripts/deploy-rehearsal.py's rehearsal of the first deploy, offline against moto's
CloudFormation (the entry point's docstring says what it rehearses), a module per part:

- common:      the mocked account's environment, the client settings, Failed / check / say;
- docs:        samconfig.toml's environments and what docs/deploying.md has the operator run;
- prepare:     steps 2-4 before the deploy (keys, secrets, topic, certificates) and the parameters;
- constraints: what CloudFormation refuses before a create (parameters, rules) and which
               resources a create makes;
- create:      `sam deploy` as boto3 calls against moto (package, upload, CreateStack, wait), moto's
               gaps marked, and readers of a deployed stack;
- checks:      a created stack as it must be, and the names a template fixes;
- teardown:    the documented tear-down, what is left after it, a failing resource;
- rehearsal:   main: dev, (a) prod beside it, (b) the tear-down, (c) a failed first create.
"""
