# The two commands of the README's quick start. Both set up whatever is missing first.
.PHONY: demo prod test schema bench

demo:  ## install everything, load demo data, serve on http://127.0.0.1:8000 (SQLite, no other services)
	scripts/dev.sh demo

prod:  ## production-like: gunicorn + Celery worker + beat (Procfile, honcho) on PostgreSQL, Redis, RabbitMQ
	scripts/dev.sh prod

test:  ## install everything, start PostgreSQL/Redis/RabbitMQ if down, lint, run the whole suite
	scripts/dev.sh test

schema:  ## regenerate docs/openapi.yaml after an API change
	scripts/dev.sh schema

bench:  ## benchmarks: prints the table and writes docs/performance.md (ARGS=--quick for a smoke run)
	scripts/dev.sh bench $(ARGS)
