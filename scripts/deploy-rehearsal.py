#!/usr/bin/env python3
"""The first deploy on a new account, rehearsed offline against moto's CloudFormation.

samconfig.toml's dev environment is deployed into a fresh mocked account the way
docs/deploying.md tells an operator to, with boto3 equivalents of its commands:

1. step 3's keys (an ES256 pair, an RSA 2048 pair); the secrets and the alarm topic that step 4's
   commands create (their names read from the docs); an ACM certificate where the environment
   names one. Every `<...>` of samconfig.toml's `parameter_overrides` is filled with what those
   commands return (a secret's full ARN, the topic's ARN, a key); a value only a person can give
   (an OAuth client id, the SES identity) gets a stand-in, listed.
2. The values held against the template's parameter constraints and `Rules`, and CloudFormation's
   request limits, as CloudFormation does before it creates anything (moto checks none of them).
3. The template packaged and transformed with scripts/check-template.py's code
   (check_template.transform: the pinned aws-sam-translator, with these parameter values),
   artifacts and template uploaded to SAM's managed bucket (`resolve_s3`), CreateStack with the
   TemplateURL, the stack-create waiter.

It asserts CREATE_COMPLETE; the buckets named `{stack}-{raw|media|user}-{account}-{region}`, the
table, every function and rule there; no concurrency reserved (a new account's quota is 10, all of
it unreserved). Then:

(a) prod's parameters as a second stack in the same account and region: created, no physical id
    shared, dev unchanged; and, statically, every name the template fixes (every type, moto's or
    not) unique within its scope for dev beside prod and for one stack name in two regions;
(b) the documented tear-down, command by command: the kept ids read, `sam delete`, the table,
    buckets and key still there (and a deploy in between refused for the taken bucket names), the
    buckets emptied by pages and removed, the table deleted, the key scheduled for deletion,
    secrets and topic deleted; nothing of the stack left, prod untouched; the same name again;
(c) in a fresh account, a first create that fails after the kept resources exist (an injected
    resource that fails): the documented recovery (delete the stack, deploy again with the same
    name) succeeds; and a value that fails its constraint (a secret's name for its ARN) is
    refused before anything exists.

moto's gaps are reported, never filled in: resource types its CloudFormation does not implement
are listed as not rehearsed (a reference to one becomes a marked `not-rehearsed:...` string); it
does not roll back a failed create; it keeps only `Retain` on delete, so `RetainExceptOnCreate`
is applied by this script once a create has completed (CloudFormation's meaning of it); it
applies a bucket's name, encryption and tags, not its versioning, lifecycle or notifications.

Usage: deploy-rehearsal.py   (with .venv/bin/python; exit 0 when every check passes)

The rehearsal lives in scripts/deploy_rehearsal/, a module per part (its __init__ lists them);
this file is the entry point that `make deploy-rehearsal` and `make lint` run.
"""

from __future__ import annotations

import sys

from botocore.exceptions import ClientError, WaiterError

from deploy_rehearsal.common import Failed
from deploy_rehearsal.rehearsal import main


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"deploy-rehearsal: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except (ClientError, WaiterError) as e:
        print(f"deploy-rehearsal: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
