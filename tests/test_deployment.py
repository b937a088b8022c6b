"""docker/: the three images, the compose stack, Prometheus, Grafana and the k8s manifests.

``docker compose config`` runs when a docker CLI with compose exists; either way every file is
parsed and checked against the code it deploys (packages copied, ports, metric names, the KEDA
query run on a migrated PostgreSQL database)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

DOCKER = REPO / "docker"
IMAGES = {
    "roadwitness-api:latest": "api.Dockerfile",
    "roadwitness-worker:latest": "worker.Dockerfile",
    "roadwitness-worker-gpu:latest": "worker-gpu.Dockerfile",
}


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _compose_cli() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_cli(), reason="no docker CLI with compose here")
def test_docker_compose_config_accepts_both_profiles() -> None:
    for profile in ("cpu", "gpu"):
        done = subprocess.run(
            [
                "docker",
                "compose",
                "-f",
                str(DOCKER / "compose.yaml"),
                "--profile",
                profile,
                "config",
                "-q",
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


def test_images_copy_every_package_and_start_their_process() -> None:
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for name in IMAGES.values():
        text = (DOCKER / name).read_text()
        for package in (p.rstrip("*") for p in packages):
            assert f"COPY {package} ./{package}" in text, f"{name} does not copy {package}"
        assert re.search(r"^CMD \[", text, re.M), name
    assert "roadwitness serve" in (DOCKER / "api.Dockerfile").read_text()
    gpu = (DOCKER / "worker-gpu.Dockerfile").read_text()
    assert "FROM nvidia/cuda" in gpu and "onnxruntime-gpu" in gpu
    for worker in ("worker.Dockerfile", "worker-gpu.Dockerfile"):
        text = (DOCKER / worker).read_text()
        assert 'CMD ["roadwitness", "worker"]' in text
        assert "ROADWITNESS_WORKER_METRICS_PORT=9100" in text


def test_compose_profiles_services_and_builds() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "api", "prometheus", "grafana"} <= set(services)
    assert services["worker"]["profiles"] == ["cpu"]
    assert services["worker-gpu"]["profiles"] == ["gpu"]
    gpu_devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert gpu_devices[0]["capabilities"] == ["gpu"]
    for name, service in services.items():
        if "build" in service:
            dockerfile = REPO / service["build"]["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile}"
            assert service["image"] in IMAGES
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DOCKER / source).exists(), f"{name} mounts missing {source}"
    for name in ("api", "worker", "worker-gpu"):
        env = services[name]["environment"]
        assert env["ROADWITNESS_QUEUE"] == "procrastinate" and env["ROADWITNESS_STORE"] == "s3"


def test_prometheus_scrapes_the_api_and_worker_ports() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    jobs = {c["job_name"]: c for c in config["scrape_configs"]}
    assert jobs["roadwitness-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["roadwitness-worker"]["dns_sd_configs"][0]["port"] == 9100


def _known_metric_names() -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    from telemetry.metrics import metrics

    m = metrics()
    m.requests.labels("/x", "GET", "200")
    m.request_seconds.labels("/x", "GET")
    m.upload_bytes.labels("single")
    m.uploads_refused.labels("queue_full")
    m.jobs.labels("done")
    m.stage_seconds.labels("decode")
    m.model_load_seconds.labels("vehicles")
    m.cases_created.labels("bus_lane@1")
    from prometheus_client import generate_latest

    names = {
        s.name
        for f in text_string_to_metric_families(generate_latest().decode())
        for s in f.samples
    }
    from ingest import observed

    source = Path(observed.__file__).read_text()
    return names | set(re.findall(r'"(roadwitness_[a-z_]+)"', source))


def test_grafana_dashboard_queries_only_metrics_the_code_exports() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "roadwitness.json").read_text())
    known = _known_metric_names()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"roadwitness_[a-z_]+", target["expr"]))
    assert used and used <= known, used - known
    for family in ("stage_duration_seconds", "queue_depth", "desk_decisions_last_hour"):
        assert any(family in name for name in used)
    provisioning = DOCKER / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"


def _k8s() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((DOCKER / "k8s" / "kustomization.yaml").read_text())
    found = {}
    for resource in kustomization["resources"]:
        for doc in _yaml_docs(DOCKER / "k8s" / resource):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), resource
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def test_k8s_deployments_probe_and_select_their_pods() -> None:
    docs = _k8s()
    deployments = {name: d for (kind, name), d in docs.items() if kind == "Deployment"}
    assert set(deployments) == {
        "roadwitness-api",
        "roadwitness-worker-cpu",
        "roadwitness-worker-gpu",
    }
    for name, deployment in deployments.items():
        template = deployment["spec"]["template"]
        labels = template["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        container = template["spec"]["containers"][0]
        assert container["image"] in IMAGES, name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["port"] in ports
        annotations = template["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) in ports.values()
    gpu = deployments["roadwitness-worker-gpu"]["spec"]["template"]["spec"]["containers"][0]
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == 1
    settings_keys = set(docs[("ConfigMap", "roadwitness")]["data"]) | set(
        docs[("Secret", "roadwitness")]["stringData"]
    )
    from settings import Settings

    for key in settings_keys - {"KEDA_PG_CONNECTION"}:
        field = key.removeprefix("ROADWITNESS_").lower()
        assert field in Settings.model_fields, f"{key} is no setting"


@pytest.mark.integration
def test_keda_scales_workers_with_a_query_that_runs_on_our_schema(pg_url: str) -> None:
    import psycopg

    from ingest.migrate import upgrade

    docs = _k8s()
    deployments = {name for kind, name in docs if kind == "Deployment"}
    scaled = [d for (kind, _), d in docs.items() if kind == "ScaledObject"]
    assert {d["spec"]["scaleTargetRef"]["name"] for d in scaled} == {
        "roadwitness-worker-cpu",
        "roadwitness-worker-gpu",
    } and all(d["spec"]["scaleTargetRef"]["name"] in deployments for d in scaled)
    upgrade(pg_url)
    with psycopg.connect(pg_url.replace("+psycopg", "")) as conn:
        for obj in scaled:
            trigger = obj["spec"]["triggers"][0]
            assert trigger["type"] == "postgresql"
            auth = trigger["authenticationRef"]["name"]
            assert ("TriggerAuthentication", auth) in docs
            row = conn.execute(trigger["metadata"]["query"]).fetchone()
            assert row is not None and row[0] == 0
