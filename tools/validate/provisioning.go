package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

type datasourceFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		UID            string            `yaml:"uid"`
		Type           string            `yaml:"type"`
		Access         string            `yaml:"access"`
		URL            string            `yaml:"url"`
		IsDefault      bool              `yaml:"isDefault"`
		Editable       bool              `yaml:"editable"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

type providerFile struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func yamlFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no YAML files in %s", dir)
	}
	return files, nil
}

// decodeStrict decodes YAML, rejecting keys the target struct does not know.
func decodeStrict(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// checkDatasources returns the provisioned datasource uids.
func checkDatasources(dir string) (map[string]bool, []result) {
	name := "provisioning: datasources parse, InfluxQL over InfluxDB 2 with fixed uids"
	uids := map[string]bool{}
	files, err := yamlFiles(dir)
	if err != nil {
		return uids, []result{{name, err}}
	}
	var errs []error
	for _, path := range files {
		var df datasourceFile
		if err := decodeStrict(path, &df); err != nil {
			errs = append(errs, err)
			continue
		}
		base := filepath.Base(path)
		if df.APIVersion != 1 {
			errs = append(errs, fmt.Errorf("%s: apiVersion must be 1", base))
		}
		for _, ds := range df.Datasources {
			if ds.UID == "" {
				errs = append(errs, fmt.Errorf("%s: datasource %q has no fixed uid", base, ds.Name))
				continue
			}
			if uids[ds.UID] {
				errs = append(errs, fmt.Errorf("%s: datasource uid %q is used twice", base, ds.UID))
			}
			uids[ds.UID] = true
			if ds.Type != "influxdb" {
				continue
			}
			if v, _ := ds.JSONData["version"].(string); v != "" && !strings.EqualFold(v, "InfluxQL") {
				errs = append(errs, fmt.Errorf("%s: %s: query language %q, want InfluxQL", base, ds.UID, v))
			}
			if db, _ := ds.JSONData["dbName"].(string); db == "" {
				errs = append(errs, fmt.Errorf("%s: %s: jsonData.dbName (the bucket) is missing", base, ds.UID))
			}
			if h, _ := ds.JSONData["httpHeaderName1"].(string); h != "Authorization" {
				errs = append(errs, fmt.Errorf("%s: %s: jsonData.httpHeaderName1 must be Authorization", base, ds.UID))
			}
			if !strings.HasPrefix(ds.SecureJSONData["httpHeaderValue1"], "Token ${") {
				errs = append(errs, fmt.Errorf("%s: %s: secureJsonData.httpHeaderValue1 must be \"Token ${VAR}\"", base, ds.UID))
			}
		}
	}
	if len(uids) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no datasource provisioned"))
	}
	return uids, []result{{name, errors.Join(errs...)}}
}

const dashboardsMount = "/var/lib/grafana/dashboards"

func checkProviders(dir, dashboardsDir string) []result {
	name := "provisioning: dashboard providers parse and load " + dashboardsMount
	files, err := yamlFiles(dir)
	if err != nil {
		return []result{{name, err}}
	}
	var errs []error
	found := false
	for _, path := range files {
		var pf providerFile
		if err := decodeStrict(path, &pf); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range pf.Providers {
			if p.Type != "file" {
				errs = append(errs, fmt.Errorf("%s: provider %q: type %q, want file", filepath.Base(path), p.Name, p.Type))
			}
			if p.Options.Path == dashboardsMount {
				found = true
			}
		}
	}
	if !found {
		errs = append(errs, fmt.Errorf("no file provider reads %s", dashboardsMount))
	}
	return []result{{name, errors.Join(errs...)}}
}
