"""The scheduling files: Kubernetes manifests valid against the Kubernetes schemas, and the
systemd units and crontab doing what the README promises."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.conftest import REPO

K8S = REPO / "deploy" / "kubernetes"
# Where README's install puts the command (uv tool install / pipx install --global)
INSTALLED = "/usr/local/bin/orderreport"
KUBERNETES_VERSION = "1.30"  # CronJob timeZone is GA since 1.27; podFailurePolicy since 1.31 beta


def manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


@pytest.mark.parametrize(
    ("name", "doc"), manifests(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_manifest_is_valid(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_invalid_manifest_is_rejected() -> None:
    """The validator really checks: a misspelt field fails."""
    doc = next(d for n, d in manifests() if d["kind"] == "CronJob")
    broken = {**doc, "spec": {**doc["spec"], "concurrencyPolicyy": "Forbid"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_cronjob_schedule_and_safety() -> None:
    (doc,) = [d for _, d in manifests() if d["kind"] == "CronJob"]
    spec = doc["spec"]
    assert spec["schedule"] == "0 0 * * *"
    assert spec["timeZone"] and spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 0 and job["activeDeadlineSeconds"] > 0
    (container,) = pod_spec(doc)["containers"]
    assert container["args"][0] == "daily"
    env = {e["name"]: e for e in container["env"]}
    assert env["ORDERREPORT_TZ"]["value"] == spec["timeZone"]


@pytest.mark.parametrize("kind", ["CronJob", "Job"])
def test_pods_are_non_root_read_only_with_secret_url(kind: str) -> None:
    (doc,) = [d for _, d in manifests() if d["kind"] == kind]
    pod = pod_spec(doc)
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["ORDERREPORT_DATABASE_URL"]["valueFrom"]
    text = yaml.safe_dump(doc)
    assert "postgresql://" not in text  # no URL, let alone a password, outside the Secret


def test_migrate_job_runs_migrate() -> None:
    (doc,) = [d for _, d in manifests() if d["kind"] == "Job"]
    assert pod_spec(doc)["containers"][0]["args"] == ["migrate"]


def test_dockerfile_runs_as_the_manifests_user() -> None:
    text = (REPO / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", text, re.M)
    assert 'ENTRYPOINT ["/usr/local/bin/orderreport"]' in text
    assert "ln -s /opt/orderreport/bin/orderreport /usr/local/bin/orderreport" in text
    assert "UV_PROJECT_ENVIRONMENT=/opt/orderreport" in text
    assert "uv sync --locked --no-dev" in text
    for _, doc in manifests():
        if doc["kind"] in ("CronJob", "Job"):
            assert pod_spec(doc)["securityContext"]["runAsUser"] == 10001


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(REPO / "deploy" / "systemd" / name)
    return parser


def test_systemd_timer_and_service() -> None:
    timer = unit("orderreport-daily.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* 00:")
    assert timer["Timer"]["Unit"] == "orderreport-daily.service"
    service = unit("orderreport-daily.service")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith(f"{INSTALLED} daily ")
    metrics_file = exec_start.split("--metrics-file ")[1].split()[0]
    assert metrics_file.endswith(".prom")  # node_exporter reads *.prom only
    # ProtectSystem=strict: the textfile folder must be writable
    writable = [w.lstrip("-") for w in service["Service"]["ReadWritePaths"].split()]
    assert str(Path(metrics_file).parent) in writable
    assert "75" in service["Service"]["SuccessExitStatus"]
    assert (
        "postgresql://"
        not in (REPO / "deploy" / "systemd" / "orderreport-daily.service").read_text()
    )


def test_crontab_example() -> None:
    lines = [
        line
        for line in (REPO / "crontab.example").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    (job,) = lines
    fields = job.split()
    minute, hour = fields[0], fields[1]
    assert (minute, hour, fields[2:5]) == ("5", "0", ["*", "*", "*"])
    command = next(f for f in fields[5:] if "orderreport" in f and "=" not in f)
    assert command == INSTALLED
    assert fields[fields.index("--metrics-file") + 1].endswith(".prom")
    assert "daily" in fields and ">>" in fields and "2>&1" in fields
    assert "ORDERREPORT_CONFIG=" in job and "postgresql://" not in job
    assert "time zone" in (REPO / "crontab.example").read_text().lower()


def test_readme_installs_the_command_where_the_deploy_files_run_it() -> None:
    readme = (REPO / "README.md").read_text()
    assert "UV_TOOL_BIN_DIR=/usr/local/bin" in readme and "uv tool install" in readme
    assert "pipx install" in readme and INSTALLED in readme
    for path in ("crontab.example", "deploy/systemd/orderreport-daily.service"):
        text = (REPO / path).read_text()
        assert "UV_TOOL_BIN_DIR=/usr/local/bin" in text, path
