package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// Services allowed to publish ports, always on 127.0.0.1.
var publishers = map[string]bool{"grafana": true, "influxdb": true}

// Environment keys that hold secrets: their value must come from .env by interpolation.
var secretKey = regexp.MustCompile(`(?i)(TOKEN|PASSWORD|SECRET|API_KEY|PRIVATE_KEY)`)

// loadCompose loads the file as `docker compose` does, with env only from envFile.
func loadCompose(composeFile, envFile string) (*types.Project, error) {
	abs, err := filepath.Abs(composeFile)
	if err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithName("validate"),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func checkCompose(composeFile, envFile string) []result {
	project, err := loadCompose(composeFile, envFile)
	if err != nil {
		return []result{{"compose: loads with compose-go", err}}
	}
	res := []result{{"compose: loads with compose-go", nil}}
	res = append(res,
		result{"compose: every image has an exact tag", checkImages(project)},
		result{"compose: published ports bind 127.0.0.1, only grafana and influxdb publish", checkPorts(project)},
		result{"compose: every service_healthy dependency has a healthcheck", checkHealthDeps(project)},
		result{"compose: bind-mount sources exist", checkBindSources(project)},
		result{"compose: no secret literal values", checkSecretLiterals(composeFile)},
	)
	return res
}

func sortedServices(p *types.Project) []types.ServiceConfig {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]types.ServiceConfig, 0, len(names))
	for _, n := range names {
		out = append(out, p.Services[n])
	}
	return out
}

// imageTag returns the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon > slash {
		return ref[colon+1:]
	}
	return ""
}

func checkImages(p *types.Project) error {
	var errs []error
	for _, s := range sortedServices(p) {
		if s.Image == "" {
			errs = append(errs, fmt.Errorf("%s: no image (give built images a name and tag too)", s.Name))
			continue
		}
		tag := imageTag(s.Image)
		switch {
		case tag == "":
			errs = append(errs, fmt.Errorf("%s: image %q has no tag", s.Name, s.Image))
		case tag == "latest" || strings.HasPrefix(tag, "latest-") || strings.HasSuffix(tag, "-latest"):
			errs = append(errs, fmt.Errorf("%s: image %q uses a latest tag", s.Name, s.Image))
		case !strings.ContainsAny(tag, "0123456789"):
			errs = append(errs, fmt.Errorf("%s: image %q tag has no version number", s.Name, s.Image))
		}
	}
	return errors.Join(errs...)
}

func checkPorts(p *types.Project) error {
	var errs []error
	for _, s := range sortedServices(p) {
		if len(s.Ports) > 0 && !publishers[s.Name] {
			errs = append(errs, fmt.Errorf("%s: publishes ports; only grafana and influxdb may", s.Name))
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				host := port.HostIP
				if host == "" {
					host = "all interfaces"
				}
				errs = append(errs, fmt.Errorf("%s: port %d published on %s, not 127.0.0.1", s.Name, port.Target, host))
			}
		}
	}
	return errors.Join(errs...)
}

func checkHealthDeps(p *types.Project) error {
	var errs []error
	for _, s := range sortedServices(p) {
		deps := make([]string, 0, len(s.DependsOn))
		for d := range s.DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if s.DependsOn[d].Condition != types.ServiceConditionHealthy {
				continue
			}
			target, ok := p.Services[d]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: depends on unknown service %s", s.Name, d))
				continue
			}
			if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
				errs = append(errs, fmt.Errorf("%s: waits for %s to be healthy, but %s has no healthcheck", s.Name, d, d))
			}
		}
	}
	return errors.Join(errs...)
}

func checkBindSources(p *types.Project) error {
	var errs []error
	for _, s := range sortedServices(p) {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				errs = append(errs, fmt.Errorf("%s: bind-mount source %s is missing", s.Name, v.Source))
			}
		}
	}
	return errors.Join(errs...)
}

// checkSecretLiterals reads the raw file (before interpolation): every secret-looking
// environment value must be a ${VAR} reference.
func checkSecretLiterals(composeFile string) error {
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		return err
	}
	var doc struct {
		Services map[string]struct {
			Environment yaml.Node `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	var errs []error
	names := make([]string, 0, len(doc.Services))
	for n := range doc.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		env := doc.Services[name].Environment
		for key, value := range envEntries(&env) {
			if secretKey.MatchString(key) && value != "" && !strings.Contains(value, "${") {
				errs = append(errs, fmt.Errorf("%s: %s has a literal value; take it from .env as ${%s}", name, key, key))
			}
		}
	}
	return errors.Join(errs...)
}

// envEntries reads an environment block in map or list form (aliases resolved).
func envEntries(n *yaml.Node) map[string]string {
	out := map[string]string{}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				for kk, vv := range envEntries(v) {
					out[kk] = vv
				}
				continue
			}
			out[k.Value] = v.Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			out[k] = v
		}
	}
	return out
}
