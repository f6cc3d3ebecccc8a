// Command validate checks the Docker stack files offline: the compose file (loaded with
// compose-go, as `docker compose` does, plus policy checks), the Grafana provisioning
// YAML, and the dashboards (strict decoding with the Grafana Foundation SDK).
//
//	go run . --root ../..                      validate
//	go run . --root ../.. --write-dashboards   regenerate grafana/dashboards/*.json and the alerting files
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
)

type result struct {
	name string
	err  error
}

// paths of the stack files relative to the repository root.
type paths struct {
	compose, envExample, datasources, providers, dashboards string
	// The probe-host deployment (deploy/agent): probes and a Telegraf agent only.
	agentCompose, agentEnvExample string
	// Alert rules template (grafana/alerting) and alerting provisioning (notifications).
	alertTemplates, alerting, readme string
}

func stackPaths(root string) paths {
	return paths{
		compose:    filepath.Join(root, "docker-compose.yml"),
		envExample: filepath.Join(root, ".env.example"),

		agentCompose:    filepath.Join(root, "deploy", "agent", "docker-compose.yml"),
		agentEnvExample: filepath.Join(root, "deploy", "agent", ".env.example"),
		datasources:     filepath.Join(root, "grafana", "provisioning", "datasources"),
		providers:       filepath.Join(root, "grafana", "provisioning", "dashboards"),
		dashboards:      filepath.Join(root, "grafana", "dashboards"),

		alertTemplates: filepath.Join(root, "grafana", "alerting"),
		alerting:       filepath.Join(root, "grafana", "provisioning", "alerting"),
		readme:         filepath.Join(root, "README.md"),
	}
}

func registerPlugins() {
	plugins.RegisterDefaultPlugins()
	cog.NewRuntime().RegisterDataqueryVariant(influxVariantConfig())
}

// validateStack runs every check; generated compares the dashboards with the generator.
func validateStack(p paths, generated bool) []result {
	res := checkCompose(p.compose, p.envExample)
	for _, r := range checkCompose(p.agentCompose, p.agentEnvExample) {
		res = append(res, result{"deploy/agent " + r.name, r.err})
	}
	dsUIDs, dsRes := checkDatasources(p.datasources)
	res = append(res, dsRes...)
	res = append(res, checkProviders(p.providers, p.dashboards)...)
	res = append(res, checkDashboards(p.dashboards, dsUIDs)...)
	res = append(res, checkHomeDashboard(p.compose, p.envExample, p.dashboards))
	res = append(res, checkAlertRules(p, dsUIDs)...)
	res = append(res, checkNotifications(p), checkAlertEnv(p))
	if generated {
		res = append(res, checkGenerated(p.dashboards), checkAlertsGenerated(p))
	}
	return res
}

func main() {
	root := flag.String("root", "../..", "repository root")
	write := flag.Bool("write-dashboards", false, "regenerate grafana/dashboards/*.json and exit")
	flag.Parse()
	registerPlugins()
	p := stackPaths(*root)

	if *write {
		if err := writeDashboards(p.dashboards); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL write dashboards:", err)
			os.Exit(1)
		}
		if err := writeAlerts(p); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL write alert rules:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", p.dashboards, p.alertTemplates, p.alerting)
		return
	}

	failed := 0
	for _, r := range validateStack(p, true) {
		if r.err != nil {
			failed++
			fmt.Printf("FAIL %s\n", r.name)
			fmt.Printf("     %s\n", indent(r.err.Error()))
		} else {
			fmt.Printf("ok   %s\n", r.name)
		}
	}
	if failed > 0 {
		fmt.Printf("%d check(s) failed\n", failed)
		os.Exit(1)
	}
}

func indent(s string) string {
	out := []byte{}
	for _, c := range []byte(s) {
		out = append(out, c)
		if c == '\n' {
			out = append(out, "     "...)
		}
	}
	return string(out)
}
