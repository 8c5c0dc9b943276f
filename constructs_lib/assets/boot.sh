# Boot script of a web tier instance. The launch template prepends the variables it reads:
#   STACK_NAME ASG_LOGICAL_ID REGION TARGET_GROUP_ARN APP_PORT HEALTH_CHECK_PATH
#   ARTIFACT_BUCKET RELEASE_ARTIFACT (empty: run the bundled service) RELEASE_SHA256 BUNDLED_SERVICE
#   SERVICE_WAIT_SECONDS TARGET_WAIT_SECONDS POLL_SECONDS CHECK_TIMEOUT_SECONDS
#   LOG_GROUP_NAME AGENT_NAMESPACE
# Each wait counts the worst case of every attempt (its timeout plus the pause), so the failure
# signal reaches CloudFormation before the CreationPolicy or UpdatePolicy stops waiting.
# It reports readiness to CloudFormation only once this instance is healthy in the target group,
# so a release that does not serve traffic fails the CreationPolicy or rolls the update back.
set -uo pipefail

# Overridable only so that tests can run the script without touching the real system.
APP_DIR=${APP_DIR:-/opt/webapp}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
CFN_BOOTSTRAP_BIN=${CFN_BOOTSTRAP_BIN:-/opt/aws/bin}
LOG_DIR=${LOG_DIR:-/var/log}
AGENT_DIR=${AGENT_DIR:-/opt/aws/amazon-cloudwatch-agent}
export PATH="$CFN_BOOTSTRAP_BIN:$PATH"
BOOT_LOG="$LOG_DIR/webapp-boot.log"
SERVICE_LOG="$LOG_DIR/webapp/service.log"
AGENT_CONFIG="$AGENT_DIR/etc/amazon-cloudwatch-agent.json"
signalled=0

# Written straight to the file (no background tee): every line is on disk before the next step.
log() { echo "boot: $*" | tee -a "$BOOT_LOG" >&2; }

# The CloudWatch agent comes first, before anything that can fail: a boot that fails later still
# leaves cloud-init's output, this script's log and the service's output in the instance log
# group after Auto Scaling terminates the instance. A missing agent costs the logs, not the boot.
start_agent() {
  if [ ! -x "$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl" ]; then
    dnf install -y amazon-cloudwatch-agent >&2 || return 1
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
  "$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$AGENT_CONFIG" >&2
}

mkdir -p "$LOG_DIR/webapp"
start_agent || log "CloudWatch agent not started: this boot's logs stay on the instance"

signal() {
  local status=$1 reason=$2
  [ "$signalled" = 1 ] && return 0
  signalled=1
  log "cfn-signal -e $status: $reason"
  cfn-signal -e "$status" --stack "$STACK_NAME" --resource "$ASG_LOGICAL_ID" \
    --region "$REGION" --reason "$reason"
}

fail() {
  signal 1 "$1"
  exit 1
}

# Any command that fails unexpectedly still reaches CloudFormation, with the line it failed on.
trap 'fail "boot script failed: $BASH_COMMAND"' ERR
trap '[ "$signalled" = 1 ] || signal 1 "boot script exited without signalling"' EXIT

# Some Amazon Linux 2023 images lack aws-cfn-bootstrap; without it nothing could be signalled.
if ! command -v cfn-signal >/dev/null 2>&1; then
  log "installing aws-cfn-bootstrap"
  dnf install -y aws-cfn-bootstrap >&2 || { log "cannot install aws-cfn-bootstrap"; exit 1; }
fi

install_release() {
  mkdir -p "$APP_DIR"
  if [ -n "$RELEASE_ARTIFACT" ]; then
    local object="s3://$ARTIFACT_BUCKET/$RELEASE_ARTIFACT" archive actual
    log "installing $object"
    archive=$(mktemp) || return 1
    aws s3 cp --region "$REGION" "$object" "$archive" || return 1
    # Fetched by key alone, an overwritten object would split the fleet between two builds:
    # nothing is extracted unless it is the build config names.
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

systemctl daemon-reload
systemctl enable --now webapp.service || fail "webapp.service did not start"

# The service answers locally before the load balancer is asked.
url="http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH"
waited=0
until curl -fsS -o /dev/null --max-time "$CHECK_TIMEOUT_SECONDS" "$url"; do
  waited=$((waited + CHECK_TIMEOUT_SECONDS + POLL_SECONDS))
  if [ "$waited" -ge "$SERVICE_WAIT_SECONDS" ]; then
    fail "service did not answer $url within ${SERVICE_WAIT_SECONDS}s"
  fi
  sleep "$POLL_SECONDS"
done

# IMDSv2 only: a session token first, then the instance ID.
token=$(curl -fsS -X PUT --max-time "$CHECK_TIMEOUT_SECONDS" \
  http://169.254.169.254/latest/api/token \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || fail "no IMDSv2 token"
instance_id=$(curl -fsS --max-time "$CHECK_TIMEOUT_SECONDS" -H "X-aws-ec2-metadata-token: $token" \
  http://169.254.169.254/latest/meta-data/instance-id) || fail "no instance ID from IMDS"

state=unknown
waited=0
while true; do
  state=$(aws elbv2 describe-target-health --region "$REGION" \
    --cli-connect-timeout "$CHECK_TIMEOUT_SECONDS" --cli-read-timeout "$CHECK_TIMEOUT_SECONDS" \
    --target-group-arn "$TARGET_GROUP_ARN" --targets "Id=$instance_id,Port=$APP_PORT" \
    --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text) || state=unknown
  if [ "$state" = healthy ]; then
    if ! signal 0 "$instance_id is healthy in the target group"; then
      # Launched by a scale-out or a replacement, after the stack operation ended: nothing waits
      # for a signal and CloudFormation rejects it. The instance serves; that is what counts.
      log "cfn-signal rejected (no stack operation waits for it); $instance_id is healthy"
    fi
    exit 0
  fi
  waited=$((waited + 2 * CHECK_TIMEOUT_SECONDS + POLL_SECONDS))
  [ "$waited" -ge "$TARGET_WAIT_SECONDS" ] && break
  sleep "$POLL_SECONDS"
done
fail "$instance_id not healthy in the target group within ${TARGET_WAIT_SECONDS}s (last: $state)"
