"""The Kubernetes manifests parse and keep their promises: probes, non-root, limits, scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

K8S = REPO / "deployment" / "k8s"
SERVICE = "house-price-service"
UI = "house-price-ui"


def load_manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


MANIFESTS = load_manifests()


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [m for m in MANIFESTS if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def deployments() -> list[dict[str, Any]]:
    return [m for m in MANIFESTS if m["kind"] == "Deployment"]


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"]["containers"])


DEPLOYMENT_IDS = [d["metadata"]["name"] for d in deployments()]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}

    assert set(kustomization["resources"]) == files
    assert {image["name"] for image in kustomization["images"]} == {
        c["image"].split(":")[0] for d in deployments() for c in containers(d)
    }


def test_every_manifest_names_its_api_and_kind() -> None:
    kinds = sorted(m["kind"] for m in MANIFESTS)

    assert all(m.get("apiVersion") and m["metadata"].get("name") for m in MANIFESTS)
    assert kinds == sorted(
        [
            "Deployment",
            "Deployment",
            "Service",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        ]
    )


def test_service_runs_two_replicas_with_readiness_and_liveness() -> None:
    deployment = find("Deployment", SERVICE)
    (container,) = containers(deployment)

    assert deployment["spec"]["replicas"] == 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["ports"][0]["containerPort"] == 8000


def test_ui_probes_streamlit_health_and_calls_the_service_by_name() -> None:
    (container,) = containers(find("Deployment", UI))
    env = {item["name"]: item["value"] for item in container["env"]}

    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert env["API_URL"] == f"http://{SERVICE}:8000"


@pytest.mark.parametrize("deployment", deployments(), ids=DEPLOYMENT_IDS)
def test_pods_run_as_non_root_with_read_only_root(deployment: dict[str, Any]) -> None:
    pod = deployment["spec"]["template"]["spec"]["securityContext"]

    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] != 0
    for container in containers(deployment):
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        # A read-only root still needs a writable /tmp (metrics files, Streamlit's home).
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts


@pytest.mark.parametrize("deployment", deployments(), ids=DEPLOYMENT_IDS)
def test_containers_request_and_limit_cpu_and_memory(deployment: dict[str, Any]) -> None:
    for container in containers(deployment):
        resources = container["resources"]
        for section in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[section]), (container["name"], section)


@pytest.mark.parametrize("deployment", deployments(), ids=DEPLOYMENT_IDS)
def test_probes_use_the_declared_port(deployment: dict[str, Any]) -> None:
    for container in containers(deployment):
        names = {p["name"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] in names


@pytest.mark.parametrize("name", [SERVICE, UI])
def test_services_select_their_deployment_pods(name: str) -> None:
    service = find("Service", name)
    labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    (container,) = containers(find("Deployment", name))

    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}


def test_autoscaler_scales_the_service_from_two() -> None:
    hpa = find("HorizontalPodAutoscaler", SERVICE)
    target = hpa["spec"]["scaleTargetRef"]

    assert (target["kind"], target["name"]) == ("Deployment", SERVICE)
    assert hpa["spec"]["minReplicas"] == find("Deployment", SERVICE)["spec"]["replicas"] == 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_images_user_matches_the_manifests() -> None:
    # Dockerfile.service and Dockerfile.ui run as 10001; the manifests say the same.
    for dockerfile in ("Dockerfile.service", "Dockerfile.ui"):
        assert "USER 10001:10001" in Path(REPO / dockerfile).read_text()
    for deployment in deployments():
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
