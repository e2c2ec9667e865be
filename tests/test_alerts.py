"""deploy/prometheus/alerts.yaml: the Prometheus alerting rules on orderreport's metrics.

promtool (Debian: apt-get install prometheus) checks the rule file and runs its unit tests,
deploy/prometheus/alerts_test.yaml; without promtool those two are skipped, unless CI is set:
then they fail. The rest is plain Python: every rule has what an operator needs (for,
severity, summary, description, a runbook naming real orderreport commands), reads only
series orderreport exports, and is tested both firing and silent.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from orderreport.deliver import metrics
from tests.conftest import REPO

RULES = REPO / "deploy" / "prometheus" / "alerts.yaml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "alerts_test.yaml"
SEVERITIES = {"warning", "critical"}
EXPORTED = set(metrics.DAILY_METRICS) | set(metrics.HEALTH_METRICS)
METRIC_NAME = re.compile(r"\borderreport_[a-z_]+")
TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
COMMAND_SPAN = re.compile(r"`(orderreport(?: [^`]*)?)`")


def promtool() -> str:
    """promtool's path; skip without it (fail instead when CI is set: CI installs it)."""
    found = shutil.which("promtool")
    if found:
        return found
    reason = "no promtool: apt-get install prometheus (Debian's package ships promtool)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping")
    pytest.skip(reason)


def run_promtool(*args: str) -> None:
    result = subprocess.run(
        [promtool(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"promtool {args}:\n{result.stdout}\n{result.stderr}"


def test_promtool_checks_the_rules() -> None:
    run_promtool("check", "rules", "deploy/prometheus/alerts.yaml")


def test_promtool_unit_tests_pass() -> None:
    """Every rule against series that must fire and series that must not (exit 75, a zero
    mean, the currency that did not drop, ...): promtool compares the alerts exactly."""
    run_promtool("test", "rules", "deploy/prometheus/alerts_test.yaml")


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    assert [g["name"] for g in doc["groups"]] == ["orderreport"]
    found: list[dict[str, Any]] = doc["groups"][0]["rules"]
    return found


def alert_names() -> list[str]:
    return [rule["alert"] for rule in rules()]


def cli_commands() -> dict[str, set[str]]:
    """Each orderreport command's name -> its option names ("" -> the top level's)."""
    import typer.main
    from typer.core import TyperGroup

    from orderreport.cli import app as cli

    group = typer.main.get_command(cli.app)
    assert isinstance(group, TyperGroup)

    def options(command: Any) -> set[str]:  # a click Command, as Typer vendors it
        return {"--help"} | {opt for param in command.params for opt in param.opts}

    commands = {name: options(command) for name, command in group.commands.items()}
    commands[""] = options(group)
    return commands


def test_the_rules_are_alerts_with_unique_names() -> None:
    names = alert_names()
    assert len(names) >= 4
    assert len(set(names)) == len(names), names
    assert all(name.startswith("Orderreport") for name in names), names


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule.get("alert")))
def test_every_rule_says_what_an_operator_needs(rule: dict[str, Any]) -> None:
    assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
    assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule["for"]
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert set(annotations) == {"summary", "description", "runbook"}, annotations
    assert all(isinstance(text, str) and text.strip() for text in annotations.values())
    assert "$labels.time_zone" in annotations["description"]  # which shop zone
    if "yesterday_value" in rule["expr"]:
        assert "$labels.currency" in annotations["description"]


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule.get("alert")))
def test_every_rule_reads_only_series_orderreport_exports(rule: dict[str, Any]) -> None:
    names = set(METRIC_NAME.findall(rule["expr"]))
    assert names, rule["expr"]
    assert names <= EXPORTED, f"not exported by orderreport.metrics: {names - EXPORTED}"


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule.get("alert")))
def test_every_runbook_names_real_orderreport_commands(rule: dict[str, Any]) -> None:
    """Each `orderreport ...` in backticks is a command of the CLI with options it has
    (templates such as {{ $labels.time_zone }} stand for a value)."""
    commands = cli_commands()
    spans = COMMAND_SPAN.findall(TEMPLATE.sub(" X ", rule["annotations"]["runbook"]))
    diagnosing = [s for s in spans if len(s.split()) > 1 and s.split()[1] in commands]
    assert diagnosing, f"no orderreport command in the runbook: {rule['annotations']}"
    for span in spans:
        words = shlex.split(span)[1:]
        command = "" if not words or words[0].startswith("-") else words.pop(0)
        assert command in commands, f"{span!r}: no command {command!r}"
        unknown = [w for w in words if w.startswith("--") and w not in commands[command]]
        assert not unknown, f"{span!r}: `orderreport {command}` has no {unknown}"


def test_the_runbook_check_catches_a_wrong_command() -> None:
    rule = {"annotations": {"runbook": "`orderreport runs --since yesterday`"}}
    with pytest.raises(AssertionError, match="has no"):
        test_every_runbook_names_real_orderreport_commands(rule)
    rule = {"annotations": {"runbook": "look at the logs"}}
    with pytest.raises(AssertionError, match="no orderreport command"):
        test_every_runbook_names_real_orderreport_commands(rule)


def test_every_rule_is_tested_firing_and_silent() -> None:
    doc = yaml.safe_load(RULE_TESTS.read_text())
    assert doc["rule_files"] == [RULES.name]
    cases = [case for group in doc["tests"] for case in group["alert_rule_test"]]
    for name in alert_names():
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name}: never tested firing"
        assert any(not case["exp_alerts"] for case in mine), f"{name}: never tested silent"
    assert {case["alertname"] for case in cases} <= set(alert_names())
    names = {
        s["series"].partition("{")[0] for group in doc["tests"] for s in group["input_series"]
    } - {"up"}  # node_exporter's own, in the test where orderreport's are all absent
    assert names <= EXPORTED, f"test series orderreport does not export: {names - EXPORTED}"
