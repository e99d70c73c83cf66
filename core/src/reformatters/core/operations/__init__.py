"""Operations: Kubernetes backfills, the operational update, validators and deployment.

Modules: ``config`` (what datasets declare), ``schedule`` (cron arithmetic), ``manifests``
(Kubernetes objects), ``kube_api`` (applying them), ``backfill`` (the Indexed Job driver),
``update`` (the operational update), ``validation`` (validators) and ``cli`` (the commands).
"""
