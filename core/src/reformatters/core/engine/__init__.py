"""The engine that runs region jobs (`reformatters.core.region_job`).

- `process`: one job end to end in the calling process (downloads, queueing, uploads);
- `tasks`: what a worker process gets for one variable;
- `worker`: what a worker does with it (decode, transform, write shards);
- `shards`: encoding one variable's region into its shards;
- `pool`: where variables run (the worker processes, or inline);
- `render`: rendering a store's metadata in a worker process.
"""
