"""Background jobs: long work (tracing, imports, the demo's next day, simulator runs) queued for a worker, with
progress, result, error and cancel in the browser. See ``cordon.core.jobs`` for how an app offers a job kind."""
