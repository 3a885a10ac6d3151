"""The machinery that runs the flows of grants.flows: the embedded Prefect server, the job runner
and scheduler of `grants serve`, and, for scale-out, the dispatcher and `grants worker` with their
liveness locks; /healthz's view of it all. Flows and services know nothing of it: a service asks
for work by writing a job row (grants.services.jobs)."""
