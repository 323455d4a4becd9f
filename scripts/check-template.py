#!/usr/bin/env python3
"""Checks a SAM template the way CloudFormation will see it, offline.

The template is packaged the way `sam deploy` packages it (every local CodeUri becomes an S3 URI)
and transformed with the pinned aws-sam-translator, the library behind CloudFormation's
AWS::Serverless-2016-10-31 transform (a managed-policy map stub stands in for the IAM lookup, so no
AWS call is made). The transformed template then must have:

- no dependency cycle among resources: DependsOn, Ref, Fn::GetAtt and Fn::Sub references count,
  in every branch of Fn::If;
- no reference (Ref, GetAtt, Sub, DependsOn, Fn::If / Condition) to something that is neither a
  resource, a parameter, a pseudo-parameter nor a condition;
- no secret in a Lambda function's environment: no value refers to a NoEcho parameter or holds
  a PEM key, and no variable is named like a secret (SECRET, PRIVATE_KEY, PASSWORD) unless its
  name ends in _ARN or _ID (it then names where the secret lives).
- no fixed physical name (a bucket's, table's, queue's, alarm's, rule's, secret's, alias's, log
  group's, ...): each is built from ${AWS::StackName} or a generated name, so that two stacks
  (dev beside prod) can be created in one account and region.

On the template as written (before the transform) it also checks that every checkov skip carries
a reason (`Metadata: checkov: skip: [{id, comment}]`), that every function an HTTP API (or REST
API) invokes has a Timeout of at most 29 s (its own, else the Globals' default, else SAM's 3 s: API
Gateway stops waiting after 30 s and answers 503 while the function runs on; longer work belongs in
an asynchronous worker), and, for template.yaml, the operational
conventions: every function logs to one of the stack's log groups (one per area, its
`LoggingConfig.LogGroup`), each with the retention parameter and the logs key, is watched by exactly one Errors and one Throttles alarm, and may read exactly the
secrets its environment names (GetSecretValue on those ARNs, never "*"; the token key only with a
userId encryption context).

Usage:
  check-template.py [TEMPLATE ...]   check each template (default: template.yaml)
  check-template.py --selftest       the fixtures under tests/fixtures/template/ must be rejected
                                     for the reason each one is named after; template.yaml passes
Exit status 0 when every check passes, 1 otherwise.

The checks live in scripts/check_template/, a module per theme (its __init__ lists them); this
file is the entry point that `make lint-template` runs.
"""

from __future__ import annotations

import sys

from check_template.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
