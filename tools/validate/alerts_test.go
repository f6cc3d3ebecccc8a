package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// renderedRules returns the generated rules rendered with .env.example's thresholds.
func renderedRules(t *testing.T) string {
	t.Helper()
	tmpl, err := renderAlertRules()
	if err != nil {
		t.Fatal(err)
	}
	env, err := envDefaults("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderThresholds(tmpl, env)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// ruleErrors runs the decode and the rule checks on a rendered file.
func ruleErrors(t *testing.T, raw string) error {
	t.Helper()
	panels, err := dashboardPanels("../../grafana/dashboards")
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeAlertRules([]byte(raw))
	if err != nil {
		return err
	}
	return errors.Join(checkRuleSemantics(f, map[string]bool{datasourceUID: true}, panels)...)
}

func TestGeneratedRulesPass(t *testing.T) {
	if err := ruleErrors(t, renderedRules(t)); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenRulesFail(t *testing.T) {
	good := renderedRules(t)
	cases := []struct{ name, from, to, want string }{
		{"unknown key in a reduce model", `"reducer": "last",`, `"reducer": "last", "bogus": 1,`, "bogus"},
		{"unknown key in a query model", `"rawQuery": true,`, `"rawQuery": true, "bogus": 1,`, "bogus"},
		{"unknown key in a rule", `"isPaused": false`, `"isPaused": false, "bogus": true`, "bogus"},
		{"datasource not provisioned", `"datasourceUid": "influxdb-probes"`, `"datasourceUid": "influxdb-other"`, "not the provisioned one"},
		{"panel link to nowhere", `"panelId": 3,`, `"panelId": 99,`, "is not a panel"},
		{"math on an unknown refId", `"$C / $D >`, `"$C / $X >`, "not an earlier reduce"},
		{"reduce mode", `"mode": "dropNN"`, `"mode": "replaceNN"`, "must be dropNN"},
		{"query without $timeFilter", `WHERE $timeFilter GROUP BY \"target\"`, `WHERE time > now() - 5m GROUP BY \"target\"`, "lacks $timeFilter"},
		{"annotation label not grouped", `GROUP BY \"target\"`, `GROUP BY \"domain\"`, "does not group by it"},
		{"no severity", `"severity": "critical"`, `"severity": "page"`, "severity"},
		{"group interval", `"interval": "30s"`, `"interval": "1m"`, "want interval 30s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.from) {
				t.Fatalf("rendered rules lack %q", c.from)
			}
			err := ruleErrors(t, strings.Replace(good, c.from, c.to, 1))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
		})
	}
}

func TestRenderThresholds(t *testing.T) {
	tmpl := []byte(`"$B > ${ALERT_P95_MS}"`)
	out, err := renderThresholds(tmpl, map[string]string{"ALERT_P95_MS": "750"})
	if err != nil || string(out) != `"$B > 750"` {
		t.Fatalf("got %s, %v", out, err)
	}
	if _, err := renderThresholds(tmpl, map[string]string{"ALERT_P95_MS": "1s"}); err == nil || !strings.Contains(err.Error(), "non-negative number") {
		t.Fatalf("a unit in the value must fail, got %v", err)
	}
	if _, err := renderThresholds(tmpl, map[string]string{}); err == nil || !strings.Contains(err.Error(), "not set") {
		t.Fatalf("a missing value must fail, got %v", err)
	}
}

func TestBrokenNotificationsFail(t *testing.T) {
	good, err := renderNotifications()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"unknown receiver key", "type: webhook", "type: webhook\n        bogus: 1", "bogus"},
		{"unknown policy key", "group_wait: 30s", "group_wait: 30s\n    bogus: 1", "bogus"},
		{"policy to no contact point", "receiver: backend-call-timing", "receiver: nobody", "not a provisioned contact point"},
		{"literal url", "url: ${ALERT_WEBHOOK_URL}", "url: http://example.com/", "want a webhook with url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(good), c.from) {
				t.Fatalf("notifications lack %q", c.from)
			}
			dir := t.TempDir()
			broken := strings.Replace(string(good), c.from, c.to, 1)
			if err := os.WriteFile(filepath.Join(dir, notificationsName), []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			r := checkNotifications(paths{alerting: dir})
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, r.err)
			}
		})
	}
}

// The rendered file is what Grafana reads as YAML (JSON is YAML): both readings agree.
func TestRenderedRulesAreYAML(t *testing.T) {
	raw := renderedRules(t)
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal([]byte(raw), &fromYAML); err != nil {
		t.Fatal(err)
	}
	viaJSON, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(viaJSON, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Fatal("the YAML reading of the rendered rules differs from the JSON one")
	}
}
