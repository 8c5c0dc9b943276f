"""The Fleet alone: how a release rolls out and what the boot script is told, from a literal
`fleet` section."""

from __future__ import annotations

import base64

import pytest
from aws_cdk.assertions import Template

from constructs_lib.core.testing import only
from constructs_lib.fleet.tests.bare_fleet import FLEET, fleet_template

# As cdk.json spells it.
RELEASE = {
    "artifact": "releases/webapp-1.2.3.tar.gz",
    "versionId": "Lb2nVxJ2VwL0nUpSpQ5VEXsT.ZdUYdhg",
    "sha256": "0123456789abcdef" * 4,
}
GATE = ("First", "Second")


def boot_script(template: Template) -> str:
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    parts = launch_template["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    if isinstance(parts, str):
        return base64.b64decode(parts).decode()
    return "".join(p if isinstance(p, str) else "<token>" for p in parts["Fn::Join"][1])


@pytest.fixture(scope="module")
def gated_without_release() -> Template:
    return fleet_template(gate=GATE)


def test_fleet_alone_rolls_a_release_out_as_planned_and_gated_on_the_alarms_given(
    gated_without_release: Template,
) -> None:
    template = gated_without_release
    (asg,) = template.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    alarms = template.find_resources("AWS::CloudWatch::Alarm")

    assert asg["UpdatePolicy"]["AutoScalingInstanceRefresh"] == {
        "Strategy": "Rolling",
        "Preferences": {
            "MinHealthyPercentage": 100,
            # One whole instance at minCapacity 2: 50% above the desired capacity.
            "MaxHealthyPercentage": 150,
            "InstanceWarmup": 300,
            "SkipMatching": True,
            "CheckpointPercentages": [50, 100],
            "CheckpointDelay": 7 * 60,
            "BakeTime": 12 * 60,
            "ScaleInProtectedInstances": "Refresh",
            "StandbyInstances": "Ignore",
            "AlarmSpecification": {"Alarms": [{"Ref": alarm} for alarm in alarms]},
        },
    }
    assert set(alarms) <= set(asg["DependsOn"])
    assert asg["CreationPolicy"] == {"ResourceSignal": {"Count": 2, "Timeout": "PT15M"}}


def test_fleet_alone_breaking_glass_lets_a_release_through_whatever_the_alarms_say() -> None:
    template = fleet_template(
        {**FLEET, "rollout": {**FLEET["rollout"], "alarmGate": False}}, gate=GATE
    )
    (asg,) = template.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    preferences = asg["UpdatePolicy"]["AutoScalingInstanceRefresh"]["Preferences"]

    assert "AlarmSpecification" not in preferences
    assert preferences["BakeTime"] == 12 * 60


def test_fleet_root_volume_is_the_size_the_section_asks_for_encrypted_with_the_key() -> None:
    template = fleet_template({**FLEET, "rootVolumeGib": 50})
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    (root,) = launch_template["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"]

    assert root["Ebs"]["VolumeSize"] == 50
    assert (root["Ebs"]["VolumeType"], root["Ebs"]["Encrypted"]) == ("gp3", True)


def test_fleet_with_a_release_hands_its_artifact_version_and_digest_to_the_boot_script() -> None:
    script = boot_script(fleet_template({**FLEET, "release": RELEASE}))

    assert f"RELEASE_ARTIFACT={RELEASE['artifact']}\n" in script
    assert f"RELEASE_VERSION_ID={RELEASE['versionId']}\n" in script
    assert f"RELEASE_SHA256={RELEASE['sha256']}\n" in script


def test_fleet_without_a_release_leaves_the_boot_script_to_run_the_bundled_service(
    gated_without_release: Template,
) -> None:
    script = boot_script(gated_without_release)

    # Empty: the boot script then installs BUNDLED_SERVICE (constructs_lib/fleet/assets/boot.sh).
    assert "RELEASE_ARTIFACT=''\n" in script
    assert "RELEASE_VERSION_ID=''\n" in script
    assert "RELEASE_SHA256=''\n" in script
    assert "\nBUNDLED_SERVICE=" in script
