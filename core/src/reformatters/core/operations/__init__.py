"""Operations: Kubernetes backfills, the operational update, validators and deployment.

What a dataset declares about them is ``reformatters.core.operations_spec`` (its cron
arithmetic: ``reformatters.core.schedule``). Modules: ``manifests`` (Kubernetes objects),
``kube_api`` (applying them), ``backfill`` (the Indexed Job driver), ``update`` (the operational
update) and ``validation`` (validators). The commands that run them are ``reformat``'s, in
reformatters-tools.
"""
