# Boot script of a web tier instance. The launch template prepends the variables it reads:
#   STACK_NAME ASG_LOGICAL_ID REGION TARGET_GROUP_ARN APP_PORT HEALTH_CHECK_PATH
#   ARTIFACT_BUCKET RELEASE_ARTIFACT (empty: run the bundled service) RELEASE_VERSION_ID
#   RELEASE_SHA256 BUNDLED_SERVICE
#   BOOT_DEADLINE_SECONDS SERVICE_WAIT_SECONDS PACKAGE_INSTALL_SECONDS COMMAND_SECONDS
#   POLL_SECONDS CHECK_TIMEOUT_SECONDS AWS_CLI_ATTEMPTS AWS_CALL_SECONDS KILL_AFTER_SECONDS
#   SIGNAL_ATTEMPTS SIGNAL_ATTEMPT_SECONDS SIGNAL_BACKOFF_SECONDS
#   LOG_GROUP_NAME AGENT_NAMESPACE
# Time is measured, not counted: every wait and every call that can hang (dnf, the AWS CLI,
# systemctl, the agent) ends by one deadline on the kernel's uptime clock, which starts about when
# CloudFormation's signal timeout does. After the deadline only the failure signal is left, and
# its bounded retries end before CloudFormation stops waiting (fleet.py derives the numbers).
# It reports readiness to CloudFormation only once this instance is healthy in the target group,
# so a release that does not serve traffic fails the CreationPolicy or rolls the update back.
set -uo pipefail

# Overridable only so that tests can run the script without touching the real system.
APP_DIR=${APP_DIR:-/opt/webapp}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
CFN_BOOTSTRAP_BIN=${CFN_BOOTSTRAP_BIN:-/opt/aws/bin}
LOG_DIR=${LOG_DIR:-/var/log}
AGENT_DIR=${AGENT_DIR:-/opt/aws/amazon-cloudwatch-agent}
UPTIME_FILE=${UPTIME_FILE:-/proc/uptime}
export PATH="$CFN_BOOTSTRAP_BIN:$PATH"
BOOT_LOG="$LOG_DIR/webapp-boot.log"
SERVICE_LOG="$LOG_DIR/webapp/service.log"
AGENT_CONFIG="$AGENT_DIR/etc/amazon-cloudwatch-agent.json"
signalled=0
# Without a limit on attempts the CLI's retries inside one call have no bound the script knows.
export AWS_MAX_ATTEMPTS="$AWS_CLI_ATTEMPTS" AWS_RETRY_MODE=standard

# Written straight to the file (no background tee): every line is on disk before the next step.
log() { echo "boot: $*" | tee -a "$BOOT_LOG" >&2; }

# Whole seconds since the kernel started.
now() {
  local uptime
  read -r uptime _ <"$UPTIME_FILE"
  echo "${uptime%.*}"
}

# Seconds left before BOOT_DEADLINE_SECONDS of uptime; 0 once it has passed.
left() {
  local remaining=$((BOOT_DEADLINE_SECONDS - $(now)))
  echo $((remaining > 0 ? remaining : 0))
}

# Runs a command for at most `limit` seconds and never past the deadline; like timeout(1), 124
# when it is cut off, and then also when no time is left to start it.
bounded() {
  local limit=$1 remaining
  shift
  remaining=$(left)
  [ "$remaining" -gt 0 ] || return 124
  timeout --kill-after="$KILL_AFTER_SECONDS" "$((remaining < limit ? remaining : limit))" "$@"
}

# The pause between two polls ends by the deadline as well.
pause() {
  local remaining
  remaining=$(left)
  sleep "$((remaining < POLL_SECONDS ? remaining : POLL_SECONDS))"
}

# The CloudWatch agent comes first, before anything that can fail: a boot that fails later still
# leaves cloud-init's output, this script's log and the service's output in the instance log
# group after Auto Scaling terminates the instance. A missing agent costs the logs, not the boot.
start_agent() {
  if [ ! -x "$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl" ]; then
    bounded "$PACKAGE_INSTALL_SECONDS" dnf install -y amazon-cloudwatch-agent >&2 || return 1
  fi
  mkdir -p "$AGENT_DIR/etc" || return 1
  # One stream per instance and file: {instance_id} is resolved by the agent from IMDS.
  cat >"$AGENT_CONFIG" <<AGENT || return 1
{
  "agent": {"metrics_collection_interval": 60},
  "logs": {
    "force_flush_interval": 5,
    "logs_collected": {
      "files": {
        "collect_list": [
          {"file_path": "$LOG_DIR/cloud-init-output.log", "log_group_name": "$LOG_GROUP_NAME",
           "log_stream_name": "{instance_id}/cloud-init-output"},
          {"file_path": "$BOOT_LOG", "log_group_name": "$LOG_GROUP_NAME",
           "log_stream_name": "{instance_id}/boot"},
          {"file_path": "$SERVICE_LOG", "log_group_name": "$LOG_GROUP_NAME",
           "log_stream_name": "{instance_id}/service"}
        ]
      }
    }
  },
  "metrics": {
    "namespace": "$AGENT_NAMESPACE",
    "append_dimensions": {"InstanceId": "\${aws:InstanceId}"},
    "aggregation_dimensions": [[]],
    "metrics_collected": {
      "mem": {"measurement": ["mem_used_percent"]},
      "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": true}
    }
  }
}
AGENT
  bounded "$COMMAND_SECONDS" "$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl" \
    -a fetch-config -m ec2 -s -c "file:$AGENT_CONFIG" >&2
}

mkdir -p "$LOG_DIR/webapp"
start_agent || log "CloudWatch agent not started: this boot's logs stay on the instance"

# Sends the one signal of this boot: 0 once CloudFormation has it, 2 when CloudFormation answers
# that the group waits for no signal, 1 when every attempt failed. A lost signal is as bad as a
# wrong one (a healthy deploy waits out the timeout and rolls back), so a failed attempt is
# retried with backoff. Runs after the deadline too: fleet.py reserves its worst case.
signal() {
  local status=$1 reason=$2 attempt output pause=$SIGNAL_BACKOFF_SECONDS
  [ "$signalled" = 1 ] && return 0
  signalled=1
  log "cfn-signal -e $status: $reason"
  for ((attempt = 1; ; attempt++)); do
    if output=$(timeout --kill-after="$KILL_AFTER_SECONDS" "$SIGNAL_ATTEMPT_SECONDS" \
      cfn-signal -e "$status" --stack "$STACK_NAME" --resource "$ASG_LOGICAL_ID" \
      --region "$REGION" --reason "$reason" 2>&1); then
      return 0
    fi
    log "cfn-signal attempt $attempt of $SIGNAL_ATTEMPTS failed: ${output:-no answer}"
    # The one answer that is final: SignalResource's ValidationError for a resource that no
    # longer waits, printed by cfn-signal as "ValidationError: Stack arn:... is in
    # CREATE_COMPLETE state and cannot be signaled" (a scale-out or a replacement after the stack
    # operation ended). Throttling, network errors and time-outs are worth another attempt.
    if [[ $output == *ValidationError*"cannot be signaled"* ]]; then
      return 2
    fi
    [ "$attempt" -lt "$SIGNAL_ATTEMPTS" ] || return 1
    sleep "$pause"
    pause=$((pause * 2))
  done
}

fail() {
  signal 1 "$1"
  exit 1
}

# Any command that fails unexpectedly still sends the failure signal. Its reason (the line it
# failed on) stays in this script's log ({instance_id}/boot in the instance log group):
# SignalResource carries no reason, so CloudFormation's events show only the instance that failed.
trap 'fail "boot script failed: $BASH_COMMAND"' ERR
trap '[ "$signalled" = 1 ] || signal 1 "boot script exited without signalling"' EXIT

# Some Amazon Linux 2023 images lack aws-cfn-bootstrap; without it nothing could be signalled.
if ! command -v cfn-signal >/dev/null 2>&1; then
  log "installing aws-cfn-bootstrap"
  bounded "$PACKAGE_INSTALL_SECONDS" dnf install -y aws-cfn-bootstrap >&2 ||
    { log "cannot install aws-cfn-bootstrap: no signal can be sent"; signalled=1; exit 1; }
fi

install_release() {
  mkdir -p "$APP_DIR"
  if [ -n "$RELEASE_ARTIFACT" ]; then
    local object="s3://$ARTIFACT_BUCKET/$RELEASE_ARTIFACT (version $RELEASE_VERSION_ID)"
    local archive actual
    log "installing $object"
    archive=$(mktemp) || return 1
    # The version deployed, not the key's latest: an overwritten key leaves scale-out with the
    # bytes the fleet was deployed with. Only the deadline bounds a download, however large.
    bounded "$BOOT_DEADLINE_SECONDS" aws s3api get-object --region "$REGION" \
      --cli-connect-timeout "$CHECK_TIMEOUT_SECONDS" --cli-read-timeout "$CHECK_TIMEOUT_SECONDS" \
      --bucket "$ARTIFACT_BUCKET" --key "$RELEASE_ARTIFACT" --version-id "$RELEASE_VERSION_ID" \
      "$archive" >/dev/null || return 1
    # The digest still decides: a version ID is only as right as the config that names it.
    actual=$(sha256sum "$archive" | cut -d ' ' -f 1) || return 1
    if [ "$actual" != "$RELEASE_SHA256" ]; then
      rm -f "$archive"
      fail "release $object has SHA-256 $actual, expected $RELEASE_SHA256; not installed"
    fi
    # The archive's owners and modes are the build machine's, not this instance's.
    tar --no-same-owner --no-same-permissions -xzf "$archive" -C "$APP_DIR" || return 1
    rm -f "$archive"
  else
    log "installing the bundled service"
    printf '%s\n' "$BUNDLED_SERVICE" >"$APP_DIR/start"
  fi
  # Owned by root and read-only to everyone else: the service's DynamicUser reads and runs it,
  # and cannot change it (it writes to its StateDirectory only).
  chmod -R u=rwX,go=rX "$APP_DIR"
  chmod 0755 "$APP_DIR/start"
}

install_release || fail "could not install the release"

cat >"$UNIT_DIR/webapp.service" <<UNIT
[Unit]
Description=Web tier application
# After= alone only orders; Wants= also pulls network-online.target into the boot.
Wants=network-online.target
After=network-online.target

[Service]
Environment=APP_PORT=$APP_PORT HEALTH_CHECK_PATH=$HEALTH_CHECK_PATH
ExecStart=$APP_DIR/start
Restart=always
# Into a file the CloudWatch agent ships (it does not read the journal); systemd opens it as root.
StandardOutput=append:$SERVICE_LOG
StandardError=append:$SERVICE_LOG
DynamicUser=yes
# /var/lib/webapp, owned by the dynamic user (systemd passes its path as STATE_DIRECTORY).
StateDirectory=webapp

[Install]
WantedBy=multi-user.target
UNIT

bounded "$COMMAND_SECONDS" systemctl daemon-reload
# --now waits for the start job, which waits for network-online.target.
bounded "$COMMAND_SECONDS" systemctl enable --now webapp.service || fail "webapp.service did not start"

# The service answers locally before the load balancer is asked.
url="http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH"
service_deadline=$(($(now) + SERVICE_WAIT_SECONDS))
until curl -fsS -o /dev/null --max-time "$CHECK_TIMEOUT_SECONDS" "$url"; do
  if [ "$(now)" -ge "$service_deadline" ] || [ "$(left)" -eq 0 ]; then
    fail "service did not answer $url within ${SERVICE_WAIT_SECONDS}s or by the boot deadline"
  fi
  pause
done

# IMDSv2 only: a session token first, then the instance ID.
token=$(curl -fsS -X PUT --max-time "$CHECK_TIMEOUT_SECONDS" \
  http://169.254.169.254/latest/api/token \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || fail "no IMDSv2 token"
instance_id=$(curl -fsS --max-time "$CHECK_TIMEOUT_SECONDS" -H "X-aws-ec2-metadata-token: $token" \
  http://169.254.169.254/latest/meta-data/instance-id) || fail "no instance ID from IMDS"

state=unknown
while [ "$(left)" -gt 0 ]; do
  state=$(bounded "$AWS_CALL_SECONDS" aws elbv2 describe-target-health --region "$REGION" \
    --cli-connect-timeout "$CHECK_TIMEOUT_SECONDS" --cli-read-timeout "$CHECK_TIMEOUT_SECONDS" \
    --target-group-arn "$TARGET_GROUP_ARN" --targets "Id=$instance_id,Port=$APP_PORT" \
    --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text) || state=unknown
  if [ "$state" = healthy ]; then
    outcome=0
    signal 0 "$instance_id is healthy in the target group" || outcome=$?
    case $outcome in
      0) exit 0 ;;
      2)
        # Launched by a scale-out or a replacement, after the stack operation ended: nothing
        # waits for a signal. The instance serves; that is what counts.
        log "cfn-signal rejected (no stack operation waits for it); $instance_id is healthy"
        exit 0
        ;;
      *)
        # The service runs, but a waiting stack operation never heard so: cloud-init says so.
        log "cfn-signal failed $SIGNAL_ATTEMPTS times; $instance_id is healthy but unreported"
        exit 1
        ;;
    esac
  fi
  pause
done
fail "$instance_id not healthy in the target group by the boot deadline (last: $state)"
