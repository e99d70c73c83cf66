"""``reformat deploy``: apply every installed dataset's update and validate CronJobs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from reformatters.core.plugins import Registry
from reformatters.tools.options import DryRunOpt, NamespaceOpt

stderr = Console(stderr=True)


def register_deploy_command(app: typer.Typer, registry: Registry) -> None:
    @app.command("deploy")
    def deploy(
        dataset_id: Annotated[
            list[str] | None,
            typer.Option(help="Only this dataset (repeat for several; default: all installed)."),
        ] = None,
        image: Annotated[
            str | None,
            typer.Option(help="Container image (default $REFORMATTERS_IMAGE or each dataset's)."),
        ] = None,
        namespace: NamespaceOpt = None,
        dry_run: DryRunOpt = False,
    ) -> None:
        """Apply the update and validate CronJobs of installed datasets (server-side apply);
        remove reformatters CronJobs of datasets that are no longer installed."""
        from reformatters.core.operations import kube_api
        from reformatters.core.operations.deploy import deploy_manifests
        from reformatters.core.operations.manifests import to_yaml

        installed = sorted(registry.datasets)
        selected = list(dict.fromkeys(dataset_id)) if dataset_id else installed
        for name in selected:
            registry.get(name)  # raises UnknownDatasetError with the installed ids
        datasets = {name: registry.get(name) for name in selected}
        manifests = deploy_manifests(datasets, selected, image)
        if dry_run:
            sys.stdout.write(to_yaml(manifests))
            return
        ns = namespace or kube_api.default_namespace()
        result = kube_api.deploy_cronjobs(kube_api.batch_api(), ns, manifests, selected, installed)
        for name in result.applied:
            stderr.print(f"applied cronjob {ns}/{name}", highlight=False)
        for name in result.deleted:
            stderr.print(
                f"deleted cronjob {ns}/{name} (dataset no longer installed)", highlight=False
            )
