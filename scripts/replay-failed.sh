#!/usr/bin/env bash
# Replays the asynchronous events that failed every retry (import-worker, deletion-worker,
# on-raw-upload, on-converted-output, on-transcode-event) from the stack's FailedEventsQueue, once
# the cause is fixed. Each message is a Lambda on-failure record; its requestPayload (the original event) is
# invoked again, asynchronously, on the function named in requestContext.functionArn, and the
# message is deleted only when Lambda accepted the invocation (202). Anything else stays in the
# queue, visible again after VISIBILITY seconds.
#
#   scripts/replay-failed.sh QUEUE_URL [--dry-run] [--only NAME]
#     QUEUE_URL  the stack output FailedEventsQueueUrl
#     --dry-run  show what would be replayed; change nothing (messages reappear at once)
#     --only     replay only the messages of functions whose name contains NAME
#
# Needs the AWS CLI (v2, or v1 >= 1.18) and jq, with credentials allowed sqs:ReceiveMessage,
# sqs:DeleteMessage, sqs:ChangeMessageVisibility on the queue and lambda:InvokeFunction on the
# functions. The region is taken from the queue URL. The handlers are idempotent (a replayed
# event that already took effect changes nothing), so replaying twice is safe.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
queue_url="" dry_run=0 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --only) only=${2:?--only takes a name}; shift ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [ -z "$queue_url" ] || usage; queue_url=$1 ;;
  esac
  shift
done
[ -n "$queue_url" ] || usage
for tool in aws jq; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

# https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (or the legacy REGION.queue.amazonaws.com form)
region=$(sed -nE 's#^https://(sqs\.)?([a-z0-9-]+)\.(queue\.)?amazonaws\.com(\.cn)?/.*#\2#p' <<<"$queue_url")
region=${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
[ -n "$region" ] || { echo "cannot tell the region from $queue_url; set AWS_REGION" >&2; exit 1; }
export AWS_PAGER=""
VISIBILITY=${VISIBILITY:-300}

payload=$(mktemp)
trap 'rm -f "$payload" "$payload.out"' EXIT
declare -A seen=()
replayed=0 failed=0 skipped=0 would=0

release() { # receipt handle: visible again at once
  aws sqs change-message-visibility --region "$region" --queue-url "$queue_url" \
    --receipt-handle "$1" --visibility-timeout 0 >/dev/null || true
}

while :; do
  batch=$(aws sqs receive-message --region "$region" --queue-url "$queue_url" \
    --max-number-of-messages 10 --wait-time-seconds 2 --visibility-timeout "$VISIBILITY" --output json)
  [ -n "$batch" ] || break
  count=$(jq '(.Messages // []) | length' <<<"$batch")
  [ "$count" -gt 0 ] || break
  fresh=0
  for ((i = 0; i < count; i++)); do
    message=$(jq -c ".Messages[$i]" <<<"$batch")
    id=$(jq -r '.MessageId' <<<"$message")
    receipt=$(jq -r '.ReceiptHandle' <<<"$message")
    if [ -n "${seen[$id]:-}" ]; then
      release "$receipt"
      continue
    fi
    seen[$id]=1
    fresh=1
    body=$(jq -r '.Body' <<<"$message")
    function_arn=$(jq -r '.requestContext.functionArn // empty' <<<"$body" 2>/dev/null || true)
    condition=$(jq -r '.requestContext.condition // "?"' <<<"$body" 2>/dev/null || echo "?")
    if [ -z "$function_arn" ] || ! jq -e 'has("requestPayload")' <<<"$body" >/dev/null 2>&1; then
      echo "skip $id: not a Lambda on-failure record" >&2
      skipped=$((skipped + 1))
      release "$receipt"
      continue
    fi
    name=${function_arn#*:function:}
    name=${name%%:*}
    if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then
      skipped=$((skipped + 1))
      release "$receipt"
      continue
    fi
    jq -c '.requestPayload' <<<"$body" >"$payload"
    if [ "$dry_run" = 1 ]; then
      echo "would replay $id on $name ($condition): $(head -c 200 "$payload")"
      would=$((would + 1))
      release "$receipt"
      continue
    fi
    status=$(aws lambda invoke --region "$region" --function-name "$function_arn" \
      --invocation-type Event --payload "fileb://$payload" \
      --query StatusCode --output text "$payload.out" 2>&1) || true
    if [ "$status" = 202 ]; then
      aws sqs delete-message --region "$region" --queue-url "$queue_url" --receipt-handle "$receipt"
      echo "replayed $id on $name ($condition)"
      replayed=$((replayed + 1))
    else
      echo "FAILED to replay $id on $name: $status (left in the queue)" >&2
      failed=$((failed + 1))
    fi
  done
  [ "$fresh" = 1 ] || break
done
if [ "$dry_run" = 1 ]; then
  echo "$would would be replayed, $skipped would stay (dry run: nothing changed)"
else
  echo "$replayed replayed, $failed failed, $skipped skipped (failed and skipped stay in the queue)"
fi
[ "$failed" = 0 ]
