package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	registerPlugins()
	os.Exit(m.Run())
}

// failures returns the failed checks as "name: error".
func failures(res []result) []string {
	var out []string
	for _, r := range res {
		if r.err != nil {
			out = append(out, r.name+": "+r.err.Error())
		}
	}
	return out
}

// expectOneFailure asserts that exactly the check named check failed, mentioning want.
func expectOneFailure(t *testing.T, res []result, check, want string) {
	t.Helper()
	failed := failures(res)
	if len(failed) != 1 {
		t.Fatalf("want exactly one failed check (%s), got %d: %q", check, len(failed), failed)
	}
	if !strings.HasPrefix(failed[0], check) || !strings.Contains(failed[0], want) {
		t.Fatalf("want check %q failing with %q, got %q", check, want, failed[0])
	}
}

func TestRepositoryStackFilesPass(t *testing.T) {
	res := validateStack(stackPaths("../.."), true)
	if len(res) < 10 {
		t.Fatalf("only %d checks ran", len(res))
	}
	if failed := failures(res); len(failed) > 0 {
		t.Fatalf("repository stack files fail validation:\n%s", strings.Join(failed, "\n"))
	}
}

func TestComposeFixtures(t *testing.T) {
	env := "testdata/compose/env"
	if failed := failures(checkCompose("testdata/compose/good.yml", env)); len(failed) > 0 {
		t.Fatalf("good.yml should pass: %q", failed)
	}
	cases := []struct{ file, check, want string }{
		{"latest-tag.yml", "compose: every image has an exact tag", `"grafana/grafana:latest" uses a latest tag`},
		{"missing-tag.yml", "compose: every image has an exact tag", `"grafana/grafana" has no tag`},
		{"public-port.yml", "compose: published ports bind 127.0.0.1", "port 3000 published on 0.0.0.0"},
		{"all-interfaces.yml", "compose: published ports bind 127.0.0.1", "port 3000 published on all interfaces"},
		{"extra-publisher.yml", "compose: published ports bind 127.0.0.1", "telegraf: publishes ports"},
		{"missing-healthcheck.yml", "compose: every service_healthy dependency", "influxdb has no healthcheck"},
		{"secret-literal.yml", "compose: no secret literal values", "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN has a literal value"},
		{"unknown-key.yml", "compose: loads with compose-go", "imagee"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			expectOneFailure(t, checkCompose(filepath.Join("testdata/compose", c.file), env), c.check, c.want)
		})
	}
}

func TestComposeRequiresEnv(t *testing.T) {
	// The real file requires the secrets from .env; without them loading fails.
	empty := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	expectOneFailure(t, checkCompose("../../docker-compose.yml", empty)[:1], "compose: loads with compose-go", "must be set in .env")
}

func TestDashboardFixtures(t *testing.T) {
	ds := map[string]bool{datasourceUID: true}
	good := checkDashboardFile("testdata/dashboards/good.json", ds, map[string]string{})
	if len(good) != 2 || len(failures(good)) > 0 {
		t.Fatalf("good.json should pass both checks: %+v", good)
	}
	const decode, rules = "dashboard %s: strict decode and Validate()", "dashboard %s: uid, refresh"
	cases := []struct{ file, check, want string }{
		{"unknown-option.json", decode, "unexpected field 'showLegends'"},
		{"unknown-target-key.json", decode, `unknown field "measurement"`},
		{"wrong-datasource.json", rules, `datasource uid "influxdb" is not provisioned`},
		{"missing-variable.json", rules, `variable "target" is missing`},
		{"unfiltered-query.json", rules, "must filter on $scenario (or source='app' and $client) and $target"},
		{"wrong-refresh.json", rules, `refresh must be "5s"`},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res := checkDashboardFile(filepath.Join("testdata/dashboards", c.file), ds, map[string]string{})
			expectOneFailure(t, res, strings.Replace(c.check, "%s", c.file, 1), c.want)
		})
	}
}

func TestDashboardDuplicateUID(t *testing.T) {
	ds := map[string]bool{datasourceUID: true}
	uids := map[string]string{}
	checkDashboardFile("testdata/dashboards/good.json", ds, uids)
	res := checkDashboardFile("testdata/dashboards/good.json", ds, uids)
	expectOneFailure(t, res, "dashboard good.json: uid", `uid "fixture-good" also used by good.json`)
}

func TestGeneratedDashboardsMustMatch(t *testing.T) {
	dir := t.TempDir()
	if err := writeDashboards(dir); err != nil {
		t.Fatal(err)
	}
	if r := checkGenerated(dir); r.err != nil {
		t.Fatalf("freshly written dashboards should match: %v", r.err)
	}
	path := filepath.Join(dir, "phases.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(raw), `"refresh": "5s"`, `"refresh": "10s"`, 1)
	if edited == string(raw) {
		t.Fatal("phases.json has no refresh to edit")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	expectOneFailure(t, []result{checkGenerated(dir)}, "dashboards: committed JSON matches", "phases.json differs")
}

func TestDatasourceFixtures(t *testing.T) {
	uids, res := checkDatasources("testdata/provisioning/good")
	if len(failures(res)) > 0 || !uids[datasourceUID] {
		t.Fatalf("good datasource should pass with uid %s: %q %v", datasourceUID, failures(res), uids)
	}
	cases := []struct{ dir, want string }{
		{"flux", `query language "Flux", want InfluxQL`},
		{"unknown-key", "field basicAuthUser not found"},
		{"no-uid", "has no fixed uid"},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			_, res := checkDatasources(filepath.Join("testdata/provisioning", c.dir))
			expectOneFailure(t, res, "provisioning: datasources", c.want)
		})
	}
}

func TestImageTag(t *testing.T) {
	cases := map[string]string{
		"influxdb:2.9.1":                "2.9.1",
		"grafana/grafana":               "",
		"localhost:5000/app":            "",
		"localhost:5000/app:1.2":        "1.2",
		"debian:bookworm-20251229-slim": "bookworm-20251229-slim",
		"app@sha256:abc":                "",
	}
	for image, want := range cases {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}
