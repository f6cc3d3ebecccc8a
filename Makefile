# Backend call timing: probes, demo and the Telegraf/InfluxDB/Grafana stack.
# `make` alone lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
COMPOSE ?= docker compose
DEMO_ROUNDS ?= 20

.PHONY: help up down logs ps restart report clean demo test lint tools bench build

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## Start the stack (Docker): Telegraf, InfluxDB 2, Grafana, demo backend, four probes
	@scripts/stack.sh up

down: ## Stop the stack (keeps data volumes)
	@scripts/stack.sh down

logs: ## Follow the stack's logs
	@scripts/stack.sh logs

ps: ## Show the stack's containers and health
	@scripts/stack.sh ps

restart: ## Recreate the stack's containers (applies edits to .env)
	@scripts/stack.sh restart

report: ## Print the 2x2 table from the stack's InfluxDB (SINCE=15m); HTML=path writes the HTML report instead
	@scripts/stack.sh report

clean: ## Stop the stack and delete its volumes (InfluxDB and Grafana data)
	@scripts/stack.sh clean

build: ## Build the release binaries
	$(CARGO) build --release --locked --workspace --bins

demo: build ## No Docker needed: run the four probes against a local demo backend, print the 2x2 table, write demo-out/report.html
	target/release/probe-demo --rounds $(DEMO_ROUNDS)

tools: ## Install the test tools: Telegraf (built from source, cached) and InfluxDB
	@scripts/install-tools.sh

test: ## Run every test: unit, integration, demo, offline stack validation, end-to-end pipeline
	@scripts/test.sh

lint: ## rustfmt, clippy, and offline validation of compose file and dashboards
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@scripts/validate-stack.sh

bench: ## Run the benchmarks (results go to BENCHMARKS.md by hand)
	$(CARGO) bench --workspace --locked
