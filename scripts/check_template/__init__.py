"""The checks of scripts/check-template.py (the entry point; its docstring says what is checked),
by theme:

- transform:   the template packaged as `sam deploy` does and run through the pinned SAM translator
               (also what scripts/deploy-rehearsal.py deploys);
- references:  Ref / GetAtt / Sub / Condition references, the dependency graph, its cycles and the
               references to nothing;
- environment: no secret in a function's environment;
- naming:      no physical name fixed for every stack of the account;
- conventions: the template as written: checkov skips with reasons, route timeouts, log groups,
               alarms and secret grants;
- headroom:    the transformed stack against CloudFormation's quotas;
- cli:         one template's checks together, the selftest against the fixtures, main.
"""
