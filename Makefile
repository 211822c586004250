# The two commands of the README's quick start. Both set up whatever is missing first.
.PHONY: demo test schema

demo:  ## install everything, load demo data, serve on http://127.0.0.1:8000 (SQLite, no other services)
	scripts/dev.sh demo

test:  ## install everything, start PostgreSQL/Redis/RabbitMQ if down, lint, run the whole suite
	scripts/dev.sh test

schema:  ## regenerate docs/openapi.yaml after an API change
	scripts/dev.sh schema
